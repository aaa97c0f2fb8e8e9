//! The few terminal lines a prompt owns while it waits for a key: raw mode on stderr, a frame
//! of already-wrapped lines redrawn in place after every key, then replaced by the answered
//! line. It lays nothing out itself (`prompt` wraps every line to `width()` first, so the
//! terminal never wraps one and the redraw stays exact) and decides nothing.

use std::io::{self, Stderr, Write};

use crossterm::cursor::{MoveToColumn, MoveUp};
use crossterm::event::{self, Event};
use crossterm::terminal::{self, Clear, ClearType};
use crossterm::{queue, ExecutableCommand};

use super::line::{key, Key};
use crate::output::wrap;

/// What a prompt shows: lines no wider than the screen, and where the cursor goes
/// (line index, column).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Frame {
    pub lines: Vec<String>,
    pub cursor: (usize, usize),
}

/// The terminal in raw mode for a whole interview: keys typed ahead between two prompts are
/// then neither echoed (which would break the next frame) nor lost, and Ctrl-C is a key.
/// Restored when dropped. While it lives, a line printed to the terminal ends in `\r\n`
/// (`say`).
pub struct RawMode {
    _private: (),
}

impl RawMode {
    pub fn enable() -> io::Result<RawMode> {
        terminal::enable_raw_mode()?;
        Ok(RawMode { _private: () })
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        let _ = terminal::disable_raw_mode();
    }
}

/// Prints lines on stderr, each ending in `\r\n` (right in raw mode and out of it).
pub fn say(lines: &[String]) {
    let mut out = io::stderr().lock();
    for line in lines {
        let _ = write!(out, "{line}\r\n");
    }
    let _ = out.flush();
}

/// The terminal in raw mode for one prompt (unless a `RawMode` holds it already); restored
/// when dropped if it was not raw before.
pub struct Screen {
    out: Stderr,
    /// Lines of the current frame above the cursor's line (to go back up and redraw).
    above: usize,
    /// Raw mode was switched on here, so it is switched off here.
    owns_raw: bool,
}

impl Screen {
    pub fn open() -> io::Result<Screen> {
        let owns_raw = !terminal::is_raw_mode_enabled()?;
        terminal::enable_raw_mode()?;
        Ok(Screen {
            out: io::stderr(),
            above: 0,
            owns_raw,
        })
    }

    /// The terminal's width and height (80x24 when it will not say, or says 0 or 1).
    pub fn size() -> (usize, usize) {
        match terminal::size() {
            Ok((w, h)) => (
                wrap::usable(Some(w)),
                if h < 5 { 24 } else { usize::from(h) },
            ),
            Err(_) => (wrap::FALLBACK_WIDTH, 24),
        }
    }

    /// Redraws the frame in place of the previous one.
    pub fn draw(&mut self, frame: &Frame) -> io::Result<()> {
        self.clear_frame()?;
        for (i, line) in frame.lines.iter().enumerate() {
            if i > 0 {
                self.out.write_all(b"\r\n")?;
            }
            self.out.write_all(line.as_bytes())?;
        }
        let last = frame.lines.len().saturating_sub(1);
        let row = frame.cursor.0.min(last);
        if last > row {
            queue!(self.out, MoveUp(to_u16(last - row)))?;
        }
        queue!(self.out, MoveToColumn(to_u16(frame.cursor.1)))?;
        self.above = row;
        self.out.flush()
    }

    /// Replaces the frame with these lines (the answered question) and moves below them.
    pub fn finish(&mut self, lines: &[String]) -> io::Result<()> {
        self.clear_frame()?;
        for line in lines {
            self.out.write_all(line.as_bytes())?;
            self.out.write_all(b"\r\n")?;
        }
        self.out.flush()
    }

    fn clear_frame(&mut self) -> io::Result<()> {
        queue!(self.out, MoveToColumn(0))?;
        if self.above > 0 {
            queue!(self.out, MoveUp(to_u16(self.above)))?;
        }
        queue!(self.out, Clear(ClearType::FromCursorDown))?;
        self.above = 0;
        Ok(())
    }

    /// The next key. A resized terminal comes back as `Key::Ignored` (redraw and carry on).
    pub fn read_key(&mut self) -> io::Result<Key> {
        loop {
            match event::read()? {
                Event::Key(k) => return Ok(key(k)),
                Event::Resize(..) => return Ok(Key::Ignored),
                _ => {}
            }
        }
    }
}

impl Drop for Screen {
    fn drop(&mut self) {
        if self.owns_raw {
            let _ = terminal::disable_raw_mode();
        }
        let _ = self.out.execute(MoveToColumn(0));
    }
}

fn to_u16(n: usize) -> u16 {
    u16::try_from(n).unwrap_or(u16::MAX)
}
