//! The nurse's line editor, as in any shell: the text being typed with its cursor, and what
//! each key does to it — Ctrl-U (erase to the start), Ctrl-W and Alt-Backspace (erase the word
//! before), Ctrl-K (erase to the end), Ctrl-A/Home and Ctrl-E/End, Alt-B/F and Ctrl-←/→ (a word
//! back or forward), ←/→, Backspace, Delete. Keys that are not editing (Enter, Esc, Ctrl-C,
//! ↑↓, PgUp/PgDn) come back as a `Key` for the prompt to act on. Pure: no terminal here, so
//! every key is unit-tested; `screen` reads the keys and draws.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

/// What one key press means to a prompt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    /// Changes the text or moves the cursor.
    Edit(Edit),
    Enter,
    /// Esc: pause the interview.
    Escape,
    /// Ctrl-C: stop the interview.
    Interrupt,
    Up,
    Down,
    PageUp,
    PageDown,
    /// A key that means nothing here.
    Ignored,
}

/// One change to the line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edit {
    Insert(char),
    Left,
    Right,
    WordLeft,
    WordRight,
    Home,
    End,
    Backspace,
    Delete,
    /// Ctrl-U.
    EraseToStart,
    /// Ctrl-K.
    EraseToEnd,
    /// Ctrl-W, Alt-Backspace.
    EraseWordBack,
    /// Alt-D.
    EraseWordForward,
}

/// What a terminal key event means (releases and repeats of modifier keys are `Ignored`).
pub fn key(event: KeyEvent) -> Key {
    if event.kind == KeyEventKind::Release {
        return Key::Ignored;
    }
    let ctrl = event.modifiers.contains(KeyModifiers::CONTROL);
    let alt = event.modifiers.contains(KeyModifiers::ALT);
    match event.code {
        KeyCode::Enter => Key::Enter,
        KeyCode::Esc => Key::Escape,
        KeyCode::Up => Key::Up,
        KeyCode::Down => Key::Down,
        KeyCode::PageUp => Key::PageUp,
        KeyCode::PageDown => Key::PageDown,
        KeyCode::Left if ctrl || alt => Key::Edit(Edit::WordLeft),
        KeyCode::Right if ctrl || alt => Key::Edit(Edit::WordRight),
        KeyCode::Left => Key::Edit(Edit::Left),
        KeyCode::Right => Key::Edit(Edit::Right),
        KeyCode::Home => Key::Edit(Edit::Home),
        KeyCode::End => Key::Edit(Edit::End),
        KeyCode::Backspace if ctrl || alt => Key::Edit(Edit::EraseWordBack),
        KeyCode::Backspace => Key::Edit(Edit::Backspace),
        KeyCode::Delete => Key::Edit(Edit::Delete),
        KeyCode::Char(c) if ctrl => match c.to_ascii_lowercase() {
            'c' => Key::Interrupt,
            'a' => Key::Edit(Edit::Home),
            'e' => Key::Edit(Edit::End),
            'b' => Key::Edit(Edit::Left),
            'f' => Key::Edit(Edit::Right),
            'h' => Key::Edit(Edit::Backspace),
            'd' => Key::Edit(Edit::Delete),
            'u' => Key::Edit(Edit::EraseToStart),
            'k' => Key::Edit(Edit::EraseToEnd),
            'w' => Key::Edit(Edit::EraseWordBack),
            'p' => Key::Up,
            'n' => Key::Down,
            _ => Key::Ignored,
        },
        KeyCode::Char(c) if alt => match c.to_ascii_lowercase() {
            'b' => Key::Edit(Edit::WordLeft),
            'f' => Key::Edit(Edit::WordRight),
            'd' => Key::Edit(Edit::EraseWordForward),
            _ => Key::Ignored,
        },
        KeyCode::Char(c) if !c.is_control() => Key::Edit(Edit::Insert(c)),
        _ => Key::Ignored,
    }
}

/// The text being typed and the cursor in it (a char index).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Line {
    chars: Vec<char>,
    cursor: usize,
}

impl Line {
    /// A line holding `text`, the cursor at its end.
    pub fn new(text: &str) -> Self {
        let chars: Vec<char> = text.chars().collect();
        let cursor = chars.len();
        Line { chars, cursor }
    }

    pub fn text(&self) -> String {
        self.chars.iter().collect()
    }

    /// The text before the cursor (to place the cursor on the screen).
    pub fn before_cursor(&self) -> String {
        self.chars[..self.cursor].iter().collect()
    }

    pub fn is_empty(&self) -> bool {
        self.chars.is_empty()
    }

    /// Where the word before the cursor starts (spaces before it are part of it).
    fn word_start(&self) -> usize {
        let mut i = self.cursor;
        while i > 0 && self.chars[i - 1].is_whitespace() {
            i -= 1;
        }
        while i > 0 && !self.chars[i - 1].is_whitespace() {
            i -= 1;
        }
        i
    }

    /// Where the word after the cursor ends.
    fn word_end(&self) -> usize {
        let n = self.chars.len();
        let mut i = self.cursor;
        while i < n && self.chars[i].is_whitespace() {
            i += 1;
        }
        while i < n && !self.chars[i].is_whitespace() {
            i += 1;
        }
        i
    }

    /// Applies one edit.
    pub fn apply(&mut self, edit: Edit) {
        let n = self.chars.len();
        match edit {
            Edit::Insert(c) => {
                self.chars.insert(self.cursor, c);
                self.cursor += 1;
            }
            Edit::Left => self.cursor = self.cursor.saturating_sub(1),
            Edit::Right => self.cursor = (self.cursor + 1).min(n),
            Edit::WordLeft => self.cursor = self.word_start(),
            Edit::WordRight => self.cursor = self.word_end(),
            Edit::Home => self.cursor = 0,
            Edit::End => self.cursor = n,
            Edit::Backspace => {
                if self.cursor > 0 {
                    self.cursor -= 1;
                    self.chars.remove(self.cursor);
                }
            }
            Edit::Delete => {
                if self.cursor < n {
                    self.chars.remove(self.cursor);
                }
            }
            Edit::EraseToStart => {
                self.chars.drain(..self.cursor);
                self.cursor = 0;
            }
            Edit::EraseToEnd => self.chars.truncate(self.cursor),
            Edit::EraseWordBack => {
                let start = self.word_start();
                self.chars.drain(start..self.cursor);
                self.cursor = start;
            }
            Edit::EraseWordForward => {
                let end = self.word_end();
                self.chars.drain(self.cursor..end);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typed(keys: &[Edit]) -> (String, String) {
        let mut line = Line::new("");
        for &k in keys {
            line.apply(k);
        }
        (line.text(), line.before_cursor())
    }

    fn chars(s: &str) -> Vec<Edit> {
        s.chars().map(Edit::Insert).collect()
    }

    #[test]
    fn shell_editing_keys() {
        let mut keys = chars("146 mmHg");
        keys.push(Edit::EraseWordBack);
        assert_eq!(typed(&keys), ("146 ".into(), "146 ".into()));
        keys.push(Edit::EraseWordBack);
        assert_eq!(typed(&keys).0, "");

        let mut keys = chars("no smoking");
        keys.extend([Edit::WordLeft, Edit::EraseToStart]);
        assert_eq!(typed(&keys), ("smoking".into(), "".into()));

        let mut keys = chars("bc");
        keys.extend([Edit::Home, Edit::Insert('a'), Edit::End, Edit::Insert('d')]);
        assert_eq!(typed(&keys).0, "abcd");

        let mut keys = chars("one two three");
        keys.extend([Edit::WordLeft, Edit::WordLeft, Edit::EraseToEnd]);
        assert_eq!(typed(&keys).0, "one ");

        let mut keys = chars("one two");
        keys.extend([Edit::Home, Edit::WordRight, Edit::EraseWordForward]);
        assert_eq!(typed(&keys).0, "one");

        let mut keys = chars("ab");
        keys.extend([
            Edit::Left,
            Edit::Delete,
            Edit::Backspace,
            Edit::Backspace,
            Edit::Left,
            Edit::Delete,
        ]);
        assert_eq!(typed(&keys).0, "");
    }

    #[test]
    fn terminal_keys_map_as_in_a_shell() {
        let k = |code, mods| key(KeyEvent::new(code, mods));
        let ctrl = KeyModifiers::CONTROL;
        let alt = KeyModifiers::ALT;
        assert_eq!(k(KeyCode::Char('u'), ctrl), Key::Edit(Edit::EraseToStart));
        assert_eq!(k(KeyCode::Char('w'), ctrl), Key::Edit(Edit::EraseWordBack));
        assert_eq!(k(KeyCode::Char('a'), ctrl), Key::Edit(Edit::Home));
        assert_eq!(k(KeyCode::Char('e'), ctrl), Key::Edit(Edit::End));
        assert_eq!(k(KeyCode::Char('b'), alt), Key::Edit(Edit::WordLeft));
        assert_eq!(k(KeyCode::Char('f'), alt), Key::Edit(Edit::WordRight));
        assert_eq!(k(KeyCode::Char('c'), ctrl), Key::Interrupt);
        assert_eq!(
            k(KeyCode::Char('U'), KeyModifiers::SHIFT),
            Key::Edit(Edit::Insert('U'))
        );
        assert_eq!(k(KeyCode::Home, KeyModifiers::NONE), Key::Edit(Edit::Home));
        assert_eq!(k(KeyCode::PageUp, KeyModifiers::NONE), Key::PageUp);
        assert_eq!(k(KeyCode::Esc, KeyModifiers::NONE), Key::Escape);
    }
}
