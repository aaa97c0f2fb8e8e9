//! A serde `Serializer` that writes compact JSON into a byte buffer, byte for byte what
//! `serde_json::to_writer` writes, for the batch's one record per row. The records are still
//! the `#[derive(Serialize)]` types of `output::json` (the schema is defined once, by them);
//! only the writing differs: serde_json looks up every byte of every key and string in its
//! escape table, and a batch record is some 900 bytes of mostly plain ASCII text, row after row.
//! Here a string is checked sixteen bytes at a time (one word when it is short) and copied
//! whole, escaped byte by byte only when it has something to escape; `Raw` writes JSON this
//! serializer wrote before as it is (`json::Remembered`'s parts). Numbers are handed to
//! serde_json itself, so they are written exactly as it writes them; anything this serializer
//! does not write the same way (a non-string map key, serde_json's private number and raw-value
//! types) is refused, and `write` then lets serde_json write the whole value.
//!
//! Kept because it pays (issue 12's with/without run: `batch --format ndjson`, 20k rows of the
//! benchmark file, one thread, callgrind, `json::Remembered` off in both): serde_json's writer
//! 841.2M instructions, this one 723.5M (-14.0%); on ruleset 1.0.0's file 683.4M -> 595.4M
//! (-12.9%).

use std::fmt;

use serde::ser::{self, Impossible, Serialize};

/// Appends `value` as compact JSON to `out`, exactly as `serde_json::to_writer` would.
pub fn write<T: Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) {
    let start = out.len();
    let mut compact = Compact {
        out: &mut *out,
        raw: false,
    };
    if value.serialize(&mut compact).is_err() {
        // Something this serializer does not write as serde_json does: let serde_json write
        // it (into memory, which cannot fail for these types).
        out.truncate(start);
        let _ = serde_json::to_writer(&mut *out, value);
    }
}

/// Why a value was not written here (serde_json then writes it).
#[derive(Debug)]
pub struct Refused(String);

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Refused {}

impl ser::Error for Refused {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Refused(msg.to_string())
    }
}

fn refused<T>(what: &str) -> Result<T, Refused> {
    Err(Refused(format!("{what}: left to serde_json")))
}

/// The serializer: the buffer written into.
struct Compact<'o> {
    out: &'o mut Vec<u8>,
    /// Inside a `Raw`: its bytes are written as they are.
    raw: bool,
}

/// The name `Raw` serializes under, which this serializer knows.
const RAW: &str = "$ketascreen::compact_json::Raw";

/// JSON this serializer wrote before (a part of a record remembered from an earlier row), to
/// be written again as it is. Only `write` knows it: any other serializer would write the
/// bytes as an array of numbers, so a value holding one is only ever given to `write` (and
/// holds nothing that `write` leaves to serde_json).
pub struct Raw<'a>(pub &'a [u8]);

impl Serialize for Raw<'_> {
    fn serialize<S: ser::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_newtype_struct(RAW, &Bytes(self.0))
    }
}

struct Bytes<'a>(&'a [u8]);

impl Serialize for Bytes<'_> {
    fn serialize<S: ser::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(self.0)
    }
}

impl Compact<'_> {
    /// A number, as serde_json writes it.
    fn number<N: Serialize>(&mut self, n: N) -> Result<(), Refused> {
        serde_json::to_writer(&mut *self.out, &n).map_err(|e| Refused(e.to_string()))
    }
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// Whether any of the eight bytes of `word` must be escaped in a JSON string: a control
/// character (below 0x20), `"` or `\`. Exact as a yes/no (the usual "has a byte less than"
/// and "has a zero byte" word tricks).
#[inline]
fn needs_escape(word: u64) -> bool {
    let below_space = word.wrapping_sub(ONES * 0x20) & !word;
    let quote = word ^ (ONES * u64::from(b'"'));
    let backslash = word ^ (ONES * u64::from(b'\\'));
    let quote = quote.wrapping_sub(ONES) & !quote;
    let backslash = backslash.wrapping_sub(ONES) & !backslash;
    (below_space | quote | backslash) & HIGHS != 0
}

/// The bytes `at..at + N` of `bytes` as a little-endian number (the caller checks the length).
#[inline]
fn load<const N: usize>(bytes: &[u8], at: usize) -> u64 {
    let mut word = [0u8; 8];
    word[..N].copy_from_slice(&bytes[at..at + N]);
    u64::from_le_bytes(word)
}

/// Whether none of these sixteen bytes needs escaping (written so that the compiler checks
/// them at once, with vector instructions).
#[inline]
fn plain16(chunk: &[u8]) -> bool {
    let mut flagged = 0u8;
    for &b in &chunk[..16] {
        flagged |= u8::from(b < 0x20) | u8::from(b == b'"') | u8::from(b == b'\\');
    }
    flagged == 0
}

/// Whether no byte of a string of one to eight bytes needs escaping, tested as one word made
/// of two overlapping loads (the rest of a shorter string taken as spaces, which need none).
#[inline(always)]
fn plain_short(bytes: &[u8]) -> bool {
    let len = bytes.len();
    let word = match len {
        1 => load::<1>(bytes, 0) | ((ONES * 0x20) << 8),
        2..=3 => load::<2>(bytes, 0) | (load::<2>(bytes, len - 2) << 16) | ((ONES * 0x20) << 32),
        _ => load::<4>(bytes, 0) | (load::<4>(bytes, len - 4) << 32),
    };
    !needs_escape(word)
}

/// Whether no byte of a string of more than eight bytes needs escaping: sixteen bytes at a
/// time, and the last few checked as one (overlapping) piece.
fn plain_long(bytes: &[u8]) -> bool {
    let len = bytes.len();
    if len <= 16 {
        return !needs_escape(load::<8>(bytes, 0)) && !needs_escape(load::<8>(bytes, len - 8));
    }
    let mut chunks = bytes.chunks_exact(16);
    for chunk in &mut chunks {
        if !plain16(chunk) {
            return false;
        }
    }
    // The last sixteen bytes, overlapping what was checked.
    chunks.remainder().is_empty() || plain16(&bytes[len - 16..])
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// `text` as a JSON string, quotes included, escaped as serde_json escapes: `\"`, `\\`, the
/// short forms `\b \t \n \f \r`, and `\u00XX` (lowercase hex) for the other control
/// characters; everything else, other Unicode included, as it is.
#[inline(always)]
fn write_str(out: &mut Vec<u8>, text: &str) {
    let bytes = text.as_bytes();
    // Most strings of a record (keys, ids, words) are short: tested and copied right here.
    if (1..=8).contains(&bytes.len()) && plain_short(bytes) {
        out.reserve(10);
        out.push(b'"');
        out.extend_from_slice(bytes);
        out.push(b'"');
    } else {
        write_long(out, bytes);
    }
}

/// `write_str` for the rest: the empty string, longer strings, and any that needs escaping.
#[inline(never)]
fn write_long(out: &mut Vec<u8>, bytes: &[u8]) {
    let plain = match bytes.len() {
        0 => true,
        1..=8 => plain_short(bytes),
        _ => plain_long(bytes),
    };
    if !plain {
        return write_escaped(out, bytes);
    }
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    out.extend_from_slice(bytes);
    out.push(b'"');
}

/// `write_str` for text that has something to escape.
#[inline(never)]
fn write_escaped(out: &mut Vec<u8>, bytes: &[u8]) {
    out.push(b'"');
    let mut run = 0; // where the bytes not yet copied start
    for (i, &byte) in bytes.iter().enumerate() {
        let short = match byte {
            b'"' => b'"',
            b'\\' => b'\\',
            0x08 => b'b',
            0x09 => b't',
            0x0a => b'n',
            0x0c => b'f',
            0x0d => b'r',
            0x00..=0x1f => b'u',
            _ => continue,
        };
        out.extend_from_slice(&bytes[run..i]);
        out.push(b'\\');
        out.push(short);
        if short == b'u' {
            out.extend_from_slice(b"00");
            out.push(HEX[usize::from(byte >> 4)]);
            out.push(HEX[usize::from(byte & 0xf)]);
        }
        run = i + 1;
    }
    out.extend_from_slice(&bytes[run..]);
    out.push(b'"');
}

/// A sequence, map or struct being written: whether its first element is still to come.
pub struct Compound<'s, 'o> {
    ser: &'s mut Compact<'o>,
    first: bool,
    /// What closes it: `]`, `}`, or `]}` / `}}` for an enum variant's.
    close: &'static [u8],
}

impl Compound<'_, '_> {
    fn comma(&mut self) {
        if !self.first {
            self.ser.out.push(b',');
        }
        self.first = false;
    }

    fn key(&mut self, key: &str) {
        self.comma();
        write_str(self.ser.out, key);
        self.ser.out.push(b':');
    }

    fn end(self) -> Result<(), Refused> {
        self.ser.out.extend_from_slice(self.close);
        Ok(())
    }
}

impl<'s, 'o> Compact<'o> {
    fn open(&'s mut self, open: &[u8], close: &'static [u8]) -> Compound<'s, 'o> {
        self.out.extend_from_slice(open);
        Compound {
            ser: self,
            first: true,
            close,
        }
    }

    /// `{"variant":` before an enum variant's content.
    fn variant(&mut self, variant: &str) {
        self.out.push(b'{');
        write_str(self.out, variant);
        self.out.push(b':');
    }
}

impl<'s, 'o> ser::Serializer for &'s mut Compact<'o> {
    type Ok = ();
    type Error = Refused;
    type SerializeSeq = Compound<'s, 'o>;
    type SerializeTuple = Compound<'s, 'o>;
    type SerializeTupleStruct = Compound<'s, 'o>;
    type SerializeTupleVariant = Compound<'s, 'o>;
    type SerializeMap = Compound<'s, 'o>;
    type SerializeStruct = Compound<'s, 'o>;
    type SerializeStructVariant = Compound<'s, 'o>;

    fn serialize_bool(self, v: bool) -> Result<(), Refused> {
        self.out
            .extend_from_slice(if v { b"true" } else { b"false" });
        Ok(())
    }
    fn serialize_i8(self, v: i8) -> Result<(), Refused> {
        self.number(v)
    }
    fn serialize_i16(self, v: i16) -> Result<(), Refused> {
        self.number(v)
    }
    fn serialize_i32(self, v: i32) -> Result<(), Refused> {
        self.number(v)
    }
    fn serialize_i64(self, v: i64) -> Result<(), Refused> {
        self.number(v)
    }
    fn serialize_i128(self, v: i128) -> Result<(), Refused> {
        self.number(v)
    }
    fn serialize_u8(self, v: u8) -> Result<(), Refused> {
        self.number(v)
    }
    fn serialize_u16(self, v: u16) -> Result<(), Refused> {
        self.number(v)
    }
    fn serialize_u32(self, v: u32) -> Result<(), Refused> {
        self.number(v)
    }
    fn serialize_u64(self, v: u64) -> Result<(), Refused> {
        self.number(v)
    }
    fn serialize_u128(self, v: u128) -> Result<(), Refused> {
        self.number(v)
    }
    fn serialize_f32(self, v: f32) -> Result<(), Refused> {
        self.number(v)
    }
    fn serialize_f64(self, v: f64) -> Result<(), Refused> {
        self.number(v)
    }
    fn serialize_char(self, v: char) -> Result<(), Refused> {
        write_str(self.out, v.encode_utf8(&mut [0; 4]));
        Ok(())
    }
    fn serialize_str(self, v: &str) -> Result<(), Refused> {
        write_str(self.out, v);
        Ok(())
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<(), Refused> {
        use ser::SerializeSeq as _;
        if self.raw {
            self.raw = false;
            self.out.extend_from_slice(v);
            return Ok(());
        }
        let mut seq = self.serialize_seq(Some(v.len()))?;
        for b in v {
            seq.serialize_element(b)?;
        }
        seq.end()
    }
    fn serialize_none(self) -> Result<(), Refused> {
        self.out.extend_from_slice(b"null");
        Ok(())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Refused> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), Refused> {
        self.serialize_none()
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), Refused> {
        self.serialize_none()
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<(), Refused> {
        self.serialize_str(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        value: &T,
    ) -> Result<(), Refused> {
        self.raw = name == RAW;
        value.serialize(&mut *self)?;
        if std::mem::take(&mut self.raw) {
            return refused("a Raw that is not bytes");
        }
        Ok(())
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), Refused> {
        self.variant(variant);
        value.serialize(&mut *self)?;
        self.out.push(b'}');
        Ok(())
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Compound<'s, 'o>, Refused> {
        Ok(self.open(b"[", b"]"))
    }
    fn serialize_tuple(self, len: usize) -> Result<Compound<'s, 'o>, Refused> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        len: usize,
    ) -> Result<Compound<'s, 'o>, Refused> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Compound<'s, 'o>, Refused> {
        self.variant(variant);
        Ok(self.open(b"[", b"]}"))
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Compound<'s, 'o>, Refused> {
        Ok(self.open(b"{", b"}"))
    }
    fn serialize_struct(
        self,
        name: &'static str,
        _len: usize,
    ) -> Result<Compound<'s, 'o>, Refused> {
        // serde_json's own number and raw-value types (`$serde_json::private::...`).
        if name.starts_with('$') {
            return refused(name);
        }
        Ok(self.open(b"{", b"}"))
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Compound<'s, 'o>, Refused> {
        self.variant(variant);
        Ok(self.open(b"{", b"}}"))
    }
}

impl ser::SerializeSeq for Compound<'_, '_> {
    type Ok = ();
    type Error = Refused;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Refused> {
        self.comma();
        value.serialize(&mut *self.ser)
    }
    fn end(self) -> Result<(), Refused> {
        Compound::end(self)
    }
}

impl ser::SerializeTuple for Compound<'_, '_> {
    type Ok = ();
    type Error = Refused;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Refused> {
        ser::SerializeSeq::serialize_element(self, value)
    }
    fn end(self) -> Result<(), Refused> {
        Compound::end(self)
    }
}

impl ser::SerializeTupleStruct for Compound<'_, '_> {
    type Ok = ();
    type Error = Refused;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Refused> {
        ser::SerializeSeq::serialize_element(self, value)
    }
    fn end(self) -> Result<(), Refused> {
        Compound::end(self)
    }
}

impl ser::SerializeTupleVariant for Compound<'_, '_> {
    type Ok = ();
    type Error = Refused;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Refused> {
        ser::SerializeSeq::serialize_element(self, value)
    }
    fn end(self) -> Result<(), Refused> {
        Compound::end(self)
    }
}

impl ser::SerializeMap for Compound<'_, '_> {
    type Ok = ();
    type Error = Refused;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Refused> {
        self.comma();
        key.serialize(Key(&mut *self.ser))?;
        self.ser.out.push(b':');
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Refused> {
        value.serialize(&mut *self.ser)
    }
    fn end(self) -> Result<(), Refused> {
        Compound::end(self)
    }
}

impl ser::SerializeStruct for Compound<'_, '_> {
    type Ok = ();
    type Error = Refused;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Refused> {
        self.key(key);
        value.serialize(&mut *self.ser)
    }
    fn end(self) -> Result<(), Refused> {
        Compound::end(self)
    }
}

impl ser::SerializeStructVariant for Compound<'_, '_> {
    type Ok = ();
    type Error = Refused;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Refused> {
        self.key(key);
        value.serialize(&mut *self.ser)
    }
    fn end(self) -> Result<(), Refused> {
        Compound::end(self)
    }
}

/// A map key: written here only when it is a string (every key of our records); any other
/// key is refused, and serde_json writes the value.
struct Key<'s, 'o>(&'s mut Compact<'o>);

impl ser::Serializer for Key<'_, '_> {
    type Ok = ();
    type Error = Refused;
    type SerializeSeq = Impossible<(), Refused>;
    type SerializeTuple = Impossible<(), Refused>;
    type SerializeTupleStruct = Impossible<(), Refused>;
    type SerializeTupleVariant = Impossible<(), Refused>;
    type SerializeMap = Impossible<(), Refused>;
    type SerializeStruct = Impossible<(), Refused>;
    type SerializeStructVariant = Impossible<(), Refused>;

    fn serialize_str(self, v: &str) -> Result<(), Refused> {
        write_str(self.0.out, v);
        Ok(())
    }
    fn serialize_char(self, v: char) -> Result<(), Refused> {
        write_str(self.0.out, v.encode_utf8(&mut [0; 4]));
        Ok(())
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<(), Refused> {
        self.serialize_str(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<(), Refused> {
        value.serialize(self)
    }
    fn serialize_bool(self, _v: bool) -> Result<(), Refused> {
        refused("a boolean key")
    }
    fn serialize_i8(self, _v: i8) -> Result<(), Refused> {
        refused("a number key")
    }
    fn serialize_i16(self, _v: i16) -> Result<(), Refused> {
        refused("a number key")
    }
    fn serialize_i32(self, _v: i32) -> Result<(), Refused> {
        refused("a number key")
    }
    fn serialize_i64(self, _v: i64) -> Result<(), Refused> {
        refused("a number key")
    }
    fn serialize_u8(self, _v: u8) -> Result<(), Refused> {
        refused("a number key")
    }
    fn serialize_u16(self, _v: u16) -> Result<(), Refused> {
        refused("a number key")
    }
    fn serialize_u32(self, _v: u32) -> Result<(), Refused> {
        refused("a number key")
    }
    fn serialize_u64(self, _v: u64) -> Result<(), Refused> {
        refused("a number key")
    }
    fn serialize_f32(self, _v: f32) -> Result<(), Refused> {
        refused("a number key")
    }
    fn serialize_f64(self, _v: f64) -> Result<(), Refused> {
        refused("a number key")
    }
    fn serialize_bytes(self, _v: &[u8]) -> Result<(), Refused> {
        refused("a bytes key")
    }
    fn serialize_none(self) -> Result<(), Refused> {
        refused("a null key")
    }
    fn serialize_some<T: Serialize + ?Sized>(self, _value: &T) -> Result<(), Refused> {
        refused("an optional key")
    }
    fn serialize_unit(self) -> Result<(), Refused> {
        refused("a unit key")
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), Refused> {
        refused("a unit key")
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _value: &T,
    ) -> Result<(), Refused> {
        refused("a variant key")
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Self::SerializeSeq, Refused> {
        refused("a sequence key")
    }
    fn serialize_tuple(self, _len: usize) -> Result<Self::SerializeTuple, Refused> {
        refused("a tuple key")
    }
    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleStruct, Refused> {
        refused("a tuple key")
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant, Refused> {
        refused("a variant key")
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap, Refused> {
        refused("a map key")
    }
    fn serialize_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStruct, Refused> {
        refused("a struct key")
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant, Refused> {
        refused("a variant key")
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use proptest::prelude::*;
    use serde::Serialize;

    use super::*;

    fn same_as_serde_json<T: Serialize + ?Sized>(value: &T) {
        let mut ours = b"before ".to_vec();
        write(&mut ours, value);
        let mut theirs = b"before ".to_vec();
        serde_json::to_writer(&mut theirs, value).expect("serializes");
        assert_eq!(
            String::from_utf8_lossy(&ours),
            String::from_utf8_lossy(&theirs)
        );
    }

    #[derive(Serialize)]
    enum Shape {
        Unit,
        Newtype(u8),
        Tuple(i32, String),
        Struct { a: Option<bool>, b: Vec<f64> },
    }

    #[derive(Serialize)]
    struct Everything<'a> {
        text: &'a str,
        none: Option<&'a str>,
        some: Option<u64>,
        skipped: (),
        flags: [bool; 2],
        ints: (i8, i16, i32, i64, i128, u8, u16, u32, u64, u128),
        floats: Vec<f64>,
        float32: f32,
        letter: char,
        bytes: &'a [u8],
        shapes: Vec<Shape>,
        map: BTreeMap<&'a str, Vec<&'a str>>,
        empty: (Vec<u8>, BTreeMap<String, u8>),
    }

    // Every escape serde_json writes, every kind of value our records hold and a few they do
    // not, against serde_json byte for byte.
    #[test]
    fn writes_what_serde_json_writes() {
        let all_bytes: String = (0u8..0x80).map(char::from).collect();
        let value = Everything {
            text: "plain \"quoted\" back\\slash\n\r\t\u{8}\u{c}\u{0}\u{1f}\u{7f} é ∑ 😀 \u{2028}",
            none: None,
            some: Some(u64::MAX),
            skipped: (),
            flags: [true, false],
            ints: (
                i8::MIN,
                -1,
                i32::MAX,
                i64::MIN,
                i128::MIN,
                u8::MAX,
                7,
                0,
                u64::MAX,
                u128::MAX,
            ),
            floats: vec![
                0.1,
                -0.0,
                1e300,
                1.5e-7,
                36.6,
                100.0,
                f64::NAN,
                f64::INFINITY,
            ],
            float32: 0.3,
            letter: '"',
            bytes: b"\x00\xff",
            shapes: vec![
                Shape::Unit,
                Shape::Newtype(3),
                Shape::Tuple(-4, "x\ny".into()),
                Shape::Struct {
                    a: None,
                    b: vec![2.5],
                },
            ],
            map: [("k\"ey", vec!["a", "b"]), ("", vec![])]
                .into_iter()
                .collect(),
            empty: (Vec::new(), BTreeMap::new()),
        };
        same_as_serde_json(&value);
        same_as_serde_json(&all_bytes);
        same_as_serde_json(&serde_json::json!({"n": 1.25, "big": 12345678901234567890u64}));
        // A key that is not a string: serde_json writes it.
        same_as_serde_json(&[(1u8, "one")].into_iter().collect::<BTreeMap<_, _>>());
    }

    proptest! {
        #[test]
        fn any_text_is_written_as_serde_json_writes_it(text in any::<String>()) {
            same_as_serde_json(&text);
        }

        #[test]
        fn ascii_with_controls_is_written_as_serde_json_writes_it(
            text in "[\\x00-\\x7f]{0,40}"
        ) {
            same_as_serde_json(&text);
        }
    }
}
