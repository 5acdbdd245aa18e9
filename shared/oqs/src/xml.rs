//! A bounded element tree over quick-xml: local names, text, children. DTDs and entity
//! references other than XML's five and character references are refused (no XXE, no
//! entity expansion); size, depth and element count are limited; Shift_JIS input is
//! decoded with `encoding_rs` first.

use quick_xml::events::Event;
use quick_xml::Reader;
use serde::Serialize;

/// The largest document accepted (answers are a few KB; a bulk answer a few hundred).
pub const MAX_BYTES: usize = 2 * 1024 * 1024;
const MAX_DEPTH: usize = 24;
const MAX_ELEMENTS: usize = 50_000;

/// How much of a document is read before it is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub bytes: usize,
    pub elements: usize,
}

impl Limits {
    /// One answer, request or face result.
    pub const ONE: Limits = Limits { bytes: MAX_BYTES, elements: MAX_ELEMENTS };
    /// A 一括照会 download: a few KB per booked patient, for a day of a large clinic
    /// (5,000 patients is ~15 MB and ~250,000 elements).
    pub const BULK: Limits = Limits { bytes: 64 * 1024 * 1024, elements: 2_000_000 };
}

/// Why a document was refused. Messages say what to do (usually: keep the file, tell
/// the vendor); the file itself is kept by the caller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(rename_all = "snake_case", tag = "kind", content = "detail")]
pub enum XmlError {
    #[error("ファイルが大きすぎます（{0} バイト）/ the file is too large ({0} bytes)")]
    TooLarge(usize),
    #[error("ファイルが空です / the file is empty")]
    Empty,
    #[error("DTD を含むファイルは読みません（安全のため）/ documents with a DTD are refused")]
    Dtd,
    #[error("実体参照 &{0}; は使えません（安全のため）/ entity reference &{0}; is refused")]
    Entity(String),
    #[error("文字コードを読めません: {0} / cannot decode the text: {0}")]
    Encoding(String),
    #[error("XML の形式が不正です: {0} / malformed XML: {0}")]
    Syntax(String),
    #[error("ファイルが途中で切れています / the document is truncated")]
    Truncated,
    #[error("入れ子が深すぎます / elements nested too deeply")]
    TooDeep,
    #[error("要素が多すぎます / too many elements")]
    TooManyElements,
    #[error("ルート要素が {0} です（XmlMsg のはず）/ the root element is {0}, not XmlMsg")]
    WrongRoot(String),
}

/// An element: its local name, its text (concatenated), its children.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Element {
    pub name: String,
    pub text: String,
    pub children: Vec<Element>,
}

impl Element {
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The trimmed text of the first child called `name`; `None` when absent or empty.
    pub fn text_of(&self, name: &str) -> Option<String> {
        let text = self.child(name)?.text.trim();
        (!text.is_empty()).then(|| text.to_string())
    }
}

/// Decodes the bytes: a BOM, else the declaration's `encoding`, else UTF-8, else Shift_JIS.
pub fn decode(bytes: &[u8]) -> Result<String, XmlError> {
    decode_within(bytes, Limits::ONE)
}

/// [`decode`] with other limits.
pub fn decode_within(bytes: &[u8], limits: Limits) -> Result<String, XmlError> {
    if bytes.len() > limits.bytes {
        return Err(XmlError::TooLarge(bytes.len()));
    }
    if let Some((encoding, bom_len)) = encoding_rs::Encoding::for_bom(bytes) {
        return decode_with(encoding, &bytes[bom_len..]);
    }
    let head = &bytes[..bytes.len().min(200)];
    let head = String::from_utf8_lossy(head);
    match declared_encoding(&head)? {
        Some(label) => {
            let encoding = encoding_rs::Encoding::for_label(label.trim().as_bytes())
                .ok_or_else(|| XmlError::Encoding(format!("unknown encoding {label:?}")))?;
            decode_with(encoding, bytes)
        }
        None => match std::str::from_utf8(bytes) {
            Ok(s) => Ok(s.to_string()),
            Err(_) => decode_with(encoding_rs::SHIFT_JIS, bytes),
        },
    }
}

/// The `encoding` label of an XML declaration at the start of `head`, if there is one.
/// The value must be quoted with `"` or `'`: anything else (a full-width `＂`, the U+FFFD a
/// Shift_JIS byte becomes, no closing quote) is a typed error, never a slice inside a
/// multi-byte character (that panicked once and stopped the gateway's worker).
fn declared_encoding(head: &str) -> Result<Option<String>, XmlError> {
    let Some(rest) = head.strip_prefix("<?xml") else { return Ok(None) };
    let Some(end) = rest.find("?>") else { return Ok(None) };
    let decl = &rest[..end];
    let Some(at) = decl.find("encoding") else { return Ok(None) };
    let bad = |why: &str| XmlError::Encoding(format!("the XML declaration's encoding {why}"));
    let Some(value) = decl[at + "encoding".len()..].trim_start().strip_prefix('=') else {
        return Err(bad("has no '='"));
    };
    let value = value.trim_start();
    let quote = match value.chars().next() {
        Some(q @ ('"' | '\'')) => q,
        Some(other) => return Err(bad(&format!("is not quoted with \" or ' (found {other:?})"))),
        None => return Err(bad("has no value")),
    };
    let value = &value[quote.len_utf8()..];
    match value.find(quote) {
        Some(close) => Ok(Some(value[..close].to_string())),
        None => Err(bad("has no closing quote")),
    }
}

fn decode_with(encoding: &'static encoding_rs::Encoding, bytes: &[u8]) -> Result<String, XmlError> {
    let (text, _, had_errors) = encoding.decode(bytes);
    if had_errors {
        return Err(XmlError::Encoding(format!("invalid {} byte sequence", encoding.name())));
    }
    Ok(text.into_owned())
}

/// Parses decoded text into its root element.
pub fn parse(text: &str) -> Result<Element, XmlError> {
    parse_within(text, Limits::ONE)
}

/// [`parse`] with other limits.
pub fn parse_within(text: &str, limits: Limits) -> Result<Element, XmlError> {
    if text.len() > limits.bytes {
        return Err(XmlError::TooLarge(text.len()));
    }
    let mut reader = Reader::from_str(text);
    reader.config_mut().check_end_names = true;
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    let mut count = 0usize;
    loop {
        let event = reader.read_event().map_err(|e| XmlError::Syntax(e.to_string()))?;
        match event {
            Event::DocType(_) => return Err(XmlError::Dtd),
            Event::Start(_) | Event::Empty(_) if root.is_some() => {
                return Err(XmlError::Syntax("content after the root element".into()));
            }
            Event::Start(e) => {
                count += 1;
                if count > limits.elements {
                    return Err(XmlError::TooManyElements);
                }
                if stack.len() >= MAX_DEPTH {
                    return Err(XmlError::TooDeep);
                }
                stack.push(Element {
                    name: e.local_name().as_ref().to_string(),
                    ..Element::default()
                });
            }
            Event::Empty(e) => {
                count += 1;
                if count > limits.elements {
                    return Err(XmlError::TooManyElements);
                }
                let element =
                    Element { name: e.local_name().as_ref().to_string(), ..Element::default() };
                match stack.last_mut() {
                    Some(parent) => parent.children.push(element),
                    None => root = Some(element),
                }
            }
            Event::End(_) => {
                let element =
                    stack.pop().ok_or_else(|| XmlError::Syntax("unbalanced end tag".into()))?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(element),
                    None => root = Some(element),
                }
            }
            Event::Text(t) => {
                if let Some(current) = stack.last_mut() {
                    current.text.push_str(&t.xml10_content());
                } else if !t.xml10_content().trim().is_empty() {
                    return Err(XmlError::Syntax("text outside the root element".into()));
                }
            }
            Event::CData(t) => {
                if let Some(current) = stack.last_mut() {
                    current.text.push_str(&t.xml10_content());
                }
            }
            Event::GeneralRef(r) => {
                let c = match &*r {
                    "lt" => '<',
                    "gt" => '>',
                    "amp" => '&',
                    "apos" => '\'',
                    "quot" => '"',
                    _ => match r.resolve_char_ref() {
                        Ok(Some(c)) => c,
                        _ => return Err(XmlError::Entity(r.chars().take(40).collect())),
                    },
                };
                if let Some(current) = stack.last_mut() {
                    current.text.push(c);
                }
            }
            Event::Eof => break,
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
        }
    }
    if !stack.is_empty() {
        return Err(XmlError::Truncated);
    }
    root.ok_or(XmlError::Empty)
}

/// Escapes text for element content.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            _ => out.push(c),
        }
    }
    out
}
