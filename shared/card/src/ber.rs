//! The BER tag-and-length header, enough to know how long a file's TLV is from its first
//! bytes. Bounded: absurd lengths are errors, never allocations.

/// Why a header cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BerError {
    #[error("truncated header")]
    Truncated,
    #[error("tag longer than 3 bytes")]
    LongTag,
    #[error("indefinite length")]
    Indefinite,
    #[error("length field of {0} bytes")]
    LongLength(u8),
    #[error("length {0} exceeds the limit {1}")]
    TooLong(usize, usize),
}

/// A parsed header: the tag bytes, the header's length and the content's length.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub tag: u32,
    pub header_len: usize,
    pub content_len: usize,
}

impl Header {
    pub fn total_len(&self) -> usize {
        self.header_len + self.content_len
    }
}

/// Reads a tag and a definite length from the start of `bytes`; the total must not
/// exceed `limit`.
pub fn header(bytes: &[u8], limit: usize) -> Result<Header, BerError> {
    let mut i = 0;
    let first = *bytes.first().ok_or(BerError::Truncated)?;
    let mut tag = u32::from(first);
    i += 1;
    if first & 0x1F == 0x1F {
        loop {
            let b = *bytes.get(i).ok_or(BerError::Truncated)?;
            tag = (tag << 8) | u32::from(b);
            i += 1;
            if b & 0x80 == 0 {
                break;
            }
            if i >= 3 {
                return Err(BerError::LongTag);
            }
        }
    }
    let l = *bytes.get(i).ok_or(BerError::Truncated)?;
    i += 1;
    let content_len = match l {
        0x00..=0x7F => usize::from(l),
        0x80 => return Err(BerError::Indefinite),
        0x81..=0x84 => {
            let n = usize::from(l & 0x7F);
            let field = bytes.get(i..i + n).ok_or(BerError::Truncated)?;
            i += n;
            field.iter().fold(0usize, |acc, b| (acc << 8) | usize::from(*b))
        }
        _ => return Err(BerError::LongLength(l & 0x7F)),
    };
    let total = i.saturating_add(content_len);
    if total > limit {
        return Err(BerError::TooLong(total, limit));
    }
    Ok(Header { tag, header_len: i, content_len })
}

/// Encodes a definite length.
pub fn encode_len(len: usize, out: &mut Vec<u8>) {
    match len {
        0..=0x7F => out.push(len as u8),
        0x80..=0xFF => out.extend([0x81, len as u8]),
        _ => out.extend([0x82, (len >> 8) as u8, len as u8]),
    }
}

/// Splits `bytes` into consecutive TLVs: (tag, value). Fails on any malformed element.
pub fn elements(mut bytes: &[u8], limit: usize) -> Result<Vec<(u32, &[u8])>, BerError> {
    let mut out = Vec::new();
    while !bytes.is_empty() {
        let h = header(bytes, limit)?;
        let value = bytes.get(h.header_len..h.total_len()).ok_or(BerError::Truncated)?;
        out.push((h.tag, value));
        bytes = &bytes[h.total_len()..];
    }
    Ok(out)
}
