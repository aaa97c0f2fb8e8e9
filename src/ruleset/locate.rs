//! Where each YAML node of a ruleset file stands, so that errors found after deserializing
//! (an unknown question inside a `when`, a duplicate id) can still point at a line and column.
//! A second, event-level parse (saphyr-parser) records the span of every node by its path,
//! e.g. `rules[3].when`; offsets inside a condition are mapped back into the source text.

use std::collections::HashMap;

use saphyr_parser::{Event, Parser};

/// A 1-based line and column (in characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pos {
    pub line: usize,
    pub column: usize,
}

/// Spans of the nodes of one YAML document, by path.
#[derive(Debug, Default)]
pub struct Locations {
    chars: Vec<char>,
    values: HashMap<String, (usize, usize)>,
    keys: HashMap<String, (usize, usize)>,
}

enum Frame {
    Map { path: String, key: Option<String> },
    Seq { path: String, index: usize },
}

fn child_path(stack: &mut [Frame]) -> Option<String> {
    match stack.last_mut() {
        None => Some(String::new()),
        Some(Frame::Seq { path, index }) => {
            let p = format!("{path}[{index}]");
            *index += 1;
            Some(p)
        }
        Some(Frame::Map { path, key }) => key.take().map(|k| {
            if path.is_empty() {
                k
            } else {
                format!("{path}.{k}")
            }
        }),
    }
}

impl Locations {
    /// Indexes a document. A document saphyr cannot read yields an empty index; the
    /// deserializer reports that error with its own position.
    pub fn index(text: &str) -> Locations {
        let mut loc = Locations {
            chars: text.chars().collect(),
            ..Default::default()
        };
        let mut parser = Parser::new_from_str(text);
        let mut stack: Vec<Frame> = Vec::new();
        // Where a container began, so its whole span can be recorded when it ends.
        let mut starts: Vec<(Option<String>, usize)> = Vec::new();
        while let Some(Ok((event, span))) = parser.next_event() {
            let range = (span.start.index(), span.end.index());
            match event {
                Event::Scalar(value, ..) => {
                    if let Some(Frame::Map { path, key }) = stack.last_mut() {
                        if key.is_none() {
                            let full = if path.is_empty() {
                                value.to_string()
                            } else {
                                format!("{path}.{value}")
                            };
                            loc.keys.insert(full.clone(), range);
                            *key = Some(value.to_string());
                            continue;
                        }
                    }
                    if let Some(p) = child_path(&mut stack) {
                        loc.values.insert(p, range);
                    }
                }
                Event::Alias(_) => {
                    if let Some(p) = child_path(&mut stack) {
                        loc.values.insert(p, range);
                    }
                }
                Event::MappingStart(..) | Event::SequenceStart(..) => {
                    let path = child_path(&mut stack);
                    starts.push((path.clone(), range.0));
                    let path = path.unwrap_or_default();
                    stack.push(if matches!(event, Event::MappingStart(..)) {
                        Frame::Map { path, key: None }
                    } else {
                        Frame::Seq { path, index: 0 }
                    });
                }
                Event::MappingEnd | Event::SequenceEnd => {
                    stack.pop();
                    if let Some((Some(path), start)) = starts.pop() {
                        loc.values.insert(path, (start, range.1.max(start)));
                    }
                }
                Event::StreamEnd => break,
                _ => {}
            }
        }
        loc
    }

    fn pos_of(&self, index: usize) -> Pos {
        let mut line = 1;
        let mut column = 1;
        for &c in self.chars.iter().take(index) {
            if c == '\n' {
                line += 1;
                column = 1;
            } else {
                column += 1;
            }
        }
        Pos { line, column }
    }

    /// Where the value at `path` starts.
    pub fn value(&self, path: &str) -> Option<Pos> {
        self.values.get(path).map(|&(start, _)| self.pos_of(start))
    }

    /// Where the key of the mapping entry at `path` starts.
    pub fn key(&self, path: &str) -> Option<Pos> {
        self.keys.get(path).map(|&(start, _)| self.pos_of(start))
    }

    /// Where a byte offset inside the scalar string at `path` (whose parsed value is
    /// `value`) stands in the file. Quotes, folding and block headers are stepped over by
    /// matching the value's visible characters against the source in order.
    pub fn inside(&self, path: &str, value: &str, byte_offset: usize) -> Option<Pos> {
        let &(start, end) = self.values.get(path)?;
        let end = end.min(self.chars.len());
        let mut cursor = start;
        let target = value
            .get(..byte_offset)
            .map(|s| s.chars().count())
            .unwrap_or(0);
        let seek = |c: char, cursor: &mut usize| {
            let mut i = *cursor;
            while i < end && self.chars[i] != c {
                i += 1;
            }
            if i < end {
                *cursor = i;
            }
        };
        let mut chars = value.chars();
        for c in chars.by_ref().take(target) {
            if !c.is_whitespace() {
                seek(c, &mut cursor);
                cursor += 1;
            }
        }
        match value[byte_offset.min(value.len())..]
            .chars()
            .find(|c| !c.is_whitespace())
        {
            Some(next) => seek(next, &mut cursor),
            None => {
                // The end of the value: just after its last visible character.
                while cursor > start
                    && cursor <= end
                    && self
                        .chars
                        .get(cursor)
                        .is_some_and(|c| c.is_whitespace() || *c == '"' || *c == '\'')
                {
                    cursor -= 1;
                }
                if target > 0 {
                    cursor += 1;
                }
            }
        }
        Some(self.pos_of(cursor))
    }

    /// The text of a 1-based line, for snippets.
    pub fn line_text(&self, line: usize) -> Option<String> {
        let text: String = self.chars.iter().collect();
        text.lines().nth(line.checked_sub(1)?).map(str::to_string)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "rules:\n  - id: a\n    when: x >= 180 or y\n  - id: b\n    when: \"z == yes\"\n  - id: c\n    when: >-\n      p and\n      q\n";

    #[test]
    fn finds_values_and_keys_by_path() {
        let loc = Locations::index(DOC);
        assert_eq!(loc.value("rules[0].id"), Some(Pos { line: 2, column: 9 }));
        assert_eq!(
            loc.value("rules[0].when"),
            Some(Pos {
                line: 3,
                column: 11
            })
        );
        assert_eq!(loc.key("rules[1].when"), Some(Pos { line: 5, column: 5 }));
        assert_eq!(loc.value("rules[1]"), Some(Pos { line: 4, column: 5 }));
    }

    #[test]
    fn maps_offsets_inside_plain_quoted_and_folded_scalars() {
        let loc = Locations::index(DOC);
        assert_eq!(
            loc.inside("rules[0].when", "x >= 180 or y", 12),
            Some(Pos {
                line: 3,
                column: 23
            })
        );
        assert_eq!(
            loc.inside("rules[1].when", "z == yes", 5),
            Some(Pos {
                line: 5,
                column: 17
            })
        );
        assert_eq!(
            loc.inside("rules[2].when", "p and q", 6),
            Some(Pos { line: 9, column: 7 })
        );
    }
}
