//! How the process starts: its error reporter and panic hooks, and SIGPIPE for headless
//! commands.

/// A headless command piped into `head` ends quietly when the reader goes away, as other Unix
/// tools do, instead of panicking on the failed write. Sockets are unaffected (the standard
/// library sends with MSG_NOSIGNAL). The TUI keeps Rust's default.
pub fn restore_sigpipe() {
    #[cfg(unix)]
    // SAFETY: called once at startup on the main thread before any other thread exists;
    // `signal` with SIG_DFL installs no handler code.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

/// Plain panic messages for users (the TUI installs its own hook that restores the terminal);
/// a panic on a worker thread (a blocking reader, a task) is caught where it is awaited and
/// reported there as an error with a sentence: one line here, never a backtrace report.
pub fn install_hooks() {
    if color_eyre::config::HookBuilder::default()
        .display_env_section(false)
        .install()
        .is_err()
    {
        crate::warn!("provost: could not install the error reporter");
    }
    let main_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if std::thread::current().name() == Some("main") {
            return main_hook(info);
        }
        let what = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic".into());
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        crate::warn!("provost: internal error in a worker{at}: {what}");
    }));
}
