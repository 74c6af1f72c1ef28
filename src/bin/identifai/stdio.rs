//! stdout and stderr as a Go tool (`gh`) treats them: a write to either
//! that finds the pipe closed (`identifai ... | head -1`) ends the process
//! quietly, as killed by SIGPIPE (141 in a shell), like `yes | head`. Any
//! other write failure of stdout is an error (exit 1); of stderr, it is
//! ignored (there is nowhere left to report it).
//!
//! SIGPIPE itself stays ignored, as Rust starts every program: restoring
//! its default would also kill the process on a socket write to a peer
//! that went away, since vectored writes (`writev`, used by hyper and
//! rustls) carry no `MSG_NOSIGNAL`. A server resetting an upload would
//! then end the tool without a word instead of being retried or reported.
//! So, as in Go, only file descriptors 1 and 2 end the process.
//!
//! `print!`, `println!`, `eprint!` and `eprintln!` are redefined here for
//! the whole binary (this module is declared first): every use, present
//! or future, goes through [`write_out`] and [`write_err`], never std's
//! macros, which panic on a closed pipe.

use std::fmt;
use std::io::{self, Write};

/// `print!` on stdout through [`write_out`].
macro_rules! print {
    ($($arg:tt)*) => {
        $crate::stdio::write_out(format_args!($($arg)*))
    };
}

/// `println!` on stdout through [`write_out`].
macro_rules! println {
    () => {
        $crate::stdio::write_out(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::stdio::write_out(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// `eprint!` on stderr through [`write_err`].
#[allow(unused_macros)]
macro_rules! eprint {
    ($($arg:tt)*) => {
        $crate::stdio::write_err(format_args!($($arg)*))
    };
}

/// `eprintln!` on stderr through [`write_err`].
macro_rules! eprintln {
    () => {
        $crate::stdio::write_err(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::stdio::write_err(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// Writes on stdout: a closed pipe ends the process ([`closed`]), any other
/// failure is reported and ends it with 1.
pub fn write_out(args: fmt::Arguments<'_>) {
    if let Err(e) = io::stdout().lock().write_fmt(args) {
        stdout_failed(e);
    }
}

/// [`write_out`] for bytes.
pub fn write_out_bytes(bytes: &[u8]) {
    if let Err(e) = io::stdout().lock().write_all(bytes) {
        stdout_failed(e);
    }
}

/// Writes on stderr: a closed pipe ends the process ([`closed`]), any other
/// failure is ignored.
pub fn write_err(args: fmt::Arguments<'_>) {
    if let Err(e) = io::stderr().lock().write_fmt(args) {
        if e.kind() == io::ErrorKind::BrokenPipe {
            closed();
        }
    }
}

/// Flushes stdout (its last line may still be buffered), as
/// [`write_out`] writes.
pub fn flush_out() {
    if let Err(e) = io::stdout().flush() {
        stdout_failed(e);
    }
}

fn stdout_failed(e: io::Error) -> ! {
    if e.kind() == io::ErrorKind::BrokenPipe {
        closed();
    }
    write_err(format_args!("error: writing to stdout: {e}\n"));
    std::process::exit(1);
}

/// A writer for stdout or stderr given to code that writes by itself (the
/// tracing subscriber): a closed pipe ends the process
/// ([`closed`]); other errors are returned to that code.
pub struct Guarded<W>(pub W);

impl<W: Write> Write for Guarded<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write(buf).inspect_err(on_error)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush().inspect_err(on_error)
    }
}

fn on_error(e: &io::Error) {
    if e.kind() == io::ErrorKind::BrokenPipe {
        closed();
    }
}

/// Ends the process because stdout or stderr is a closed pipe: killed by
/// SIGPIPE (its default action, restored for this), as a C or Go tool
/// would be. Nothing is printed: there is no one left to read it.
pub fn closed() -> ! {
    #[cfg(unix)]
    // SAFETY: signal(2), sigprocmask and raise(3) on this process with
    // constant arguments; the set is initialised by sigemptyset first.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        // A parent may have started us with SIGPIPE blocked (the mask is
        // inherited across exec): unblocked, raise() does not return.
        let mut set = std::mem::MaybeUninit::<libc::sigset_t>::uninit();
        libc::sigemptyset(set.as_mut_ptr());
        libc::sigaddset(set.as_mut_ptr(), libc::SIGPIPE);
        libc::pthread_sigmask(libc::SIG_UNBLOCK, set.as_ptr(), std::ptr::null_mut());
        libc::raise(libc::SIGPIPE);
    }
    // No SIGPIPE (Windows): quietly, as ripgrep does. On unix, the status
    // a shell would show.
    std::process::exit(if cfg!(unix) { 128 + 13 } else { 0 })
}
