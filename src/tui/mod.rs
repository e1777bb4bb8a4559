//! The terminal UI: the only module that knows ratatui and crossterm.
//!
//! One `App`, one `Action` enum, one loop: it `select!`s over terminal events, a tick and the
//! job channel, drains what is queued, applies it with `App::update`, starts the jobs that
//! returns, and draws once.

pub mod action;
pub mod app;
pub mod command;
pub mod compare;
pub mod jobs;
pub mod keymap;
pub mod layout;
pub mod list;
mod loads;
pub mod modal;
pub mod moves;
pub mod panes;
pub mod theme;
mod update;
mod writes;

use action::{Action, Command};
use app::App;
use base64::Engine as _;
use color_eyre::eyre::{Result, WrapErr};
use crossterm::event::{Event, EventStream, KeyCode, KeyEventKind, MouseButton, MouseEventKind};
use crossterm::execute;
use futures::StreamExt;
use std::io::Write;
use std::time::Duration;

use crate::setup::Settings;

/// Maps a terminal event to an action, given whether a filter is being typed.
pub fn map_event(app: &App, ev: &Event) -> Option<Action> {
    match ev {
        Event::Key(k) if k.kind != KeyEventKind::Release => {
            if app.modal.is_some() {
                use modal::ModalKey;
                let ctrl_c = k.code == KeyCode::Char('c')
                    && k.modifiers
                        .contains(crossterm::event::KeyModifiers::CONTROL);
                return match k.code {
                    _ if ctrl_c => Some(Action::ModalKey(ModalKey::Esc)),
                    KeyCode::Enter => Some(Action::ModalKey(ModalKey::Enter)),
                    KeyCode::Esc => Some(Action::ModalKey(ModalKey::Esc)),
                    KeyCode::Backspace => Some(Action::ModalKey(ModalKey::Backspace)),
                    KeyCode::Tab => Some(Action::ModalKey(ModalKey::Tab)),
                    KeyCode::BackTab => Some(Action::ModalKey(ModalKey::BackTab)),
                    KeyCode::Char(c) => Some(Action::ModalKey(ModalKey::Char(c))),
                    _ => None,
                };
            }
            if app.command.open {
                return match k.code {
                    KeyCode::Enter => Some(Action::CommandSubmit),
                    KeyCode::Esc => Some(Action::CommandCancel),
                    KeyCode::Backspace => Some(Action::CommandBackspace),
                    KeyCode::Up => Some(Action::CommandHistory(true)),
                    KeyCode::Down => Some(Action::CommandHistory(false)),
                    KeyCode::Char(c) if !c.is_control() => Some(Action::CommandInput(c)),
                    _ => None,
                };
            }
            if app.editing_filter {
                return match k.code {
                    KeyCode::Enter => Some(Action::FilterCommit),
                    KeyCode::Esc => Some(Action::FilterCancel),
                    KeyCode::Backspace => Some(Action::FilterBackspace),
                    KeyCode::Char(c) if !c.is_control() => Some(Action::FilterInput(c)),
                    _ => None,
                };
            }
            app.keymap.lookup(k).map(Action::Command)
        }
        Event::Mouse(m) => match m.kind {
            MouseEventKind::ScrollDown => Some(Action::ScrollAt {
                column: m.column,
                row: m.row,
                down: true,
            }),
            MouseEventKind::ScrollUp => Some(Action::ScrollAt {
                column: m.column,
                row: m.row,
                down: false,
            }),
            MouseEventKind::Down(MouseButton::Left) => Some(Action::ClickAt {
                column: m.column,
                row: m.row,
            }),
            _ => None,
        },
        Event::Resize(w, h) => Some(Action::Resize(*w, *h)),
        _ => None,
    }
}

fn restore_terminal() {
    let _ = execute!(std::io::stdout(), crossterm::event::DisableMouseCapture);
    ratatui::restore();
}

/// Writes `text` to the terminal clipboard with OSC 52 (works over SSH and in tmux with
/// `set-clipboard on`).
fn osc52(text: &str) -> std::io::Result<()> {
    let b64 = base64::engine::general_purpose::STANDARD.encode(text);
    let mut out = std::io::stdout();
    write!(out, "\x1b]52;c;{b64}\x07")?;
    out.flush()
}

/// Runs the TUI until the user quits.
pub async fn run(settings: &Settings, theme: theme::Theme) -> Result<()> {
    let keymap = keymap::Keymap::default_keymap();
    let mut app = App::new(settings, keymap);
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    // A bad policy or trust file is reported here, before raw mode (exit code 2).
    let mut jobs = jobs::Jobs::new(settings, tx)
        .map_err(|e| color_eyre::eyre::eyre!(crate::cli::exit::Usage(e.to_string())))?;
    if !std::io::IsTerminal::is_terminal(&std::io::stdout()) {
        return Err(color_eyre::eyre::eyre!(crate::cli::exit::Usage(
            "the console needs a terminal: run provost in one, or use a subcommand (provost --help)"
                .into()
        )));
    }

    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore_terminal();
        previous(info);
    }));
    let mut terminal = ratatui::init();
    execute!(std::io::stdout(), crossterm::event::EnableMouseCapture)
        .wrap_err("enabling mouse capture")?;
    let result = event_loop(&mut terminal, &mut app, &theme, &mut jobs, &mut rx).await;
    restore_terminal();
    result
}

async fn event_loop(
    terminal: &mut ratatui::DefaultTerminal,
    app: &mut App,
    theme: &theme::Theme,
    jobs: &mut jobs::Jobs,
    rx: &mut tokio::sync::mpsc::UnboundedReceiver<Action>,
) -> Result<()> {
    let size = terminal.size().wrap_err("reading the terminal size")?;
    app.size = (size.width, size.height);
    // Open the first source straight away: the newcomer lands on its repositories.
    for job in app.update(Action::Command(Command::Open)) {
        jobs.start(job);
    }
    let mut events = EventStream::new();
    let mut tick = tokio::time::interval(Duration::from_millis(1000 / app::TICKS_PER_SECOND));
    loop {
        terminal
            .draw(|f| panes::render(app, theme, f))
            .wrap_err("drawing the screen")?;
        let mut queued: Vec<Action> = vec![];
        tokio::select! {
            ev = events.next() => match ev {
                Some(Ok(ev)) => queued.extend(map_event(app, &ev)),
                Some(Err(e)) => return Err(e).wrap_err("reading terminal input"),
                None => return Ok(()),
            },
            Some(a) = rx.recv() => queued.push(a),
            _ = tick.tick() => queued.push(Action::Tick),
        }
        // Drain whatever else has arrived, then draw once.
        while let Ok(a) = rx.try_recv() {
            queued.push(a);
        }
        for action in queued {
            for job in app.update(action) {
                jobs.start(job);
            }
        }
        if let Some(text) = app.clipboard.take() {
            osc52(&text).wrap_err("writing to the clipboard")?;
        }
        if app.quit {
            return Ok(());
        }
    }
}
