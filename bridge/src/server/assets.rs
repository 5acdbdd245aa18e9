//! The built frontend, held in memory with its compressed forms.
//!
//! Files come from a directory (`--frontend`, Trunk's `dist/`) or are embedded in the
//! binary at build time (`MADOGUCHI_EMBED_FRONTEND=dist cargo build`, done by
//! `cargo xtask dist`). Precompressed `.br` / `.gz` siblings are used when present (the
//! build writes them at the highest levels); otherwise text and wasm are compressed once
//! at load. Each response picks brotli, then gzip, then identity from `Accept-Encoding`.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;
use warp::http::{HeaderValue, StatusCode};
use warp::hyper::body::Bytes;

include!(concat!(env!("OUT_DIR"), "/embedded_frontend.rs"));

#[derive(Debug, Clone)]
struct Asset {
    /// The Content-Security-Policy for this file (HTML pages allow their own inline
    /// scripts by hash — Trunk's loader is one — and nothing else inline).
    csp: String,
    identity: Bytes,
    brotli: Option<Bytes>,
    gzip: Option<Bytes>,
    mime: &'static str,
    etag: String,
}

/// The frontend's files by path (`index.html`, `frontend-….wasm`, …).
#[derive(Debug, Clone, Default)]
pub struct Assets {
    files: HashMap<String, Asset>,
}

fn mime(path: &str) -> &'static str {
    match path.rsplit('.').next() {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("wasm") => "application/wasm",
        Some("css") => "text/css; charset=utf-8",
        Some("json" | "webmanifest") => "application/manifest+json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("txt") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

const CSP: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'{HASHES}; style-src 'self' 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; manifest-src 'self'; worker-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The CSP for `bytes` of type `mime`: HTML gets `'sha256-…'` for each inline script.
fn csp_for(mime: &str, bytes: &[u8]) -> String {
    let mut hashes = String::new();
    if mime.starts_with("text/html") {
        let html = String::from_utf8_lossy(bytes);
        let mut rest = html.as_ref();
        while let Some(start) = rest.find("<script") {
            let after = &rest[start..];
            let Some(open_end) = after.find('>') else { break };
            let tag = &after[..open_end];
            let body = &after[open_end + 1..];
            let Some(close) = body.find("</script>") else { break };
            if !tag.contains("src=") {
                use sha2::Digest;
                let digest = sha2::Sha256::digest(&body.as_bytes()[..close]);
                hashes.push_str(&format!(" 'sha256-{}'", base64(&digest)));
            }
            rest = &body[close..];
        }
    }
    CSP.replace("{HASHES}", &hashes)
}

fn compressible(mime: &str) -> bool {
    mime.starts_with("text/")
        || mime.contains("json")
        || mime == "application/wasm"
        || mime == "image/svg+xml"
}

/// Brotli at `quality` (11 for builds, 5 when compressing at start-up).
pub fn brotli(data: &[u8], quality: u32) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() / 3);
    {
        let mut w = brotli::CompressorWriter::new(&mut out, 64 * 1024, quality, 22);
        let _ = w.write_all(data);
    }
    out
}

pub fn gzip(data: &[u8], level: u32) -> Vec<u8> {
    let mut w = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(level));
    let _ = w.write_all(data);
    w.finish().unwrap_or_default()
}

impl Assets {
    /// From `(path, bytes)` pairs; `.br` / `.gz` entries are taken as their file's forms.
    pub fn from_files(files: impl IntoIterator<Item = (String, Vec<u8>)>) -> Assets {
        let mut plain = HashMap::new();
        let mut packed: HashMap<String, Vec<u8>> = HashMap::new();
        for (path, bytes) in files {
            if path.ends_with(".br") || path.ends_with(".gz") {
                packed.insert(path, bytes);
            } else {
                plain.insert(path, bytes);
            }
        }
        let files = plain
            .into_iter()
            .map(|(path, bytes)| {
                let mime = mime(&path);
                let worth = compressible(mime) && bytes.len() >= 512;
                let brotli = packed
                    .remove(&format!("{path}.br"))
                    .or_else(|| worth.then(|| brotli(&bytes, 5)));
                let gzip =
                    packed.remove(&format!("{path}.gz")).or_else(|| worth.then(|| gzip(&bytes, 6)));
                let etag = format!("\"{}\"", &crate::store::sha256_hex(&bytes)[..16]);
                let asset = Asset {
                    csp: csp_for(mime, &bytes),
                    identity: Bytes::from(bytes),
                    brotli: brotli.map(Bytes::from),
                    gzip: gzip.map(Bytes::from),
                    mime,
                    etag,
                };
                (path, asset)
            })
            .collect();
        Assets { files }
    }

    /// Every file under `dir` (hidden files skipped).
    pub fn from_dir(dir: &Path) -> std::io::Result<Assets> {
        fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, Vec<u8>)>) -> std::io::Result<()> {
            for entry in std::fs::read_dir(dir)? {
                let entry = entry?;
                let path = entry.path();
                if entry.file_name().to_string_lossy().starts_with('.') {
                    continue;
                }
                if entry.file_type()?.is_dir() {
                    walk(root, &path, out)?;
                } else if let Ok(rel) = path.strip_prefix(root) {
                    let rel = rel.to_string_lossy().replace('\\', "/");
                    out.push((rel, std::fs::read(&path)?));
                }
            }
            Ok(())
        }
        let mut files = Vec::new();
        walk(dir, dir, &mut files)?;
        Ok(Assets::from_files(files))
    }

    /// The frontend embedded at build time, when there is one.
    pub fn embedded() -> Option<Assets> {
        (!EMBEDDED.is_empty())
            .then(|| Assets::from_files(EMBEDDED.iter().map(|(p, b)| (p.to_string(), b.to_vec()))))
    }

    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// The response for `path` given the request's `Accept-Encoding` and `If-None-Match`;
    /// `None` when there is no such file.
    pub fn reply(
        &self,
        path: &str,
        accept_encoding: &str,
        if_none_match: Option<&str>,
    ) -> Option<warp::reply::Response> {
        let path = if path.is_empty() { "index.html" } else { path };
        let asset = self.files.get(path)?;
        let accepts = |coding: &str| {
            accept_encoding.split(',').any(|part| {
                let mut it = part.split(';');
                it.next().is_some_and(|c| c.trim() == coding)
                    && !it.any(|p| p.trim().replace(' ', "") == "q=0")
            })
        };
        let mut response = if if_none_match == Some(asset.etag.as_str()) {
            let mut r = warp::reply::Response::new(Bytes::new().into());
            *r.status_mut() = StatusCode::NOT_MODIFIED;
            r
        } else {
            let (body, coding) = match (&asset.brotli, &asset.gzip) {
                (Some(b), _) if accepts("br") => (b.clone(), Some("br")),
                (_, Some(g)) if accepts("gzip") => (g.clone(), Some("gzip")),
                _ => (asset.identity.clone(), None),
            };
            let mut r = warp::reply::Response::new(body.into());
            if let Some(coding) = coding {
                r.headers_mut().insert("content-encoding", HeaderValue::from_static(coding));
            }
            r
        };
        let headers = response.headers_mut();
        let set = |h: &mut warp::http::HeaderMap, k: &'static str, v: &'static str| {
            h.insert(k, HeaderValue::from_static(v));
        };
        set(headers, "content-type", asset.mime);
        if let Ok(etag) = HeaderValue::from_str(&asset.etag) {
            headers.insert("etag", etag);
        }
        set(headers, "vary", "accept-encoding");
        // Trunk hashes the wasm/js names; the shell, the service worker and the manifest
        // keep theirs, so they must be revalidated every time.
        let immutable = path.contains('-')
            && (path.ends_with(".wasm") || path.ends_with(".js"))
            && path != "sw.js";
        set(
            headers,
            "cache-control",
            if immutable { "public, max-age=31536000, immutable" } else { "no-cache" },
        );
        if let Ok(csp) = HeaderValue::from_str(&asset.csp) {
            headers.insert("content-security-policy", csp);
        }
        set(headers, "cross-origin-opener-policy", "same-origin");
        set(headers, "cross-origin-embedder-policy", "require-corp");
        set(headers, "cross-origin-resource-policy", "same-origin");
        set(headers, "x-content-type-options", "nosniff");
        set(headers, "referrer-policy", "no-referrer");
        Some(response)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assets() -> Assets {
        let js = "console.log('madoguchi');\n".repeat(100).into_bytes();
        Assets::from_files([
            ("index.html".to_string(), b"<!doctype html><title>x</title>".to_vec()),
            ("app-0123abcd.js".to_string(), js),
        ])
    }

    #[test]
    fn picks_the_best_encoding_the_client_takes() {
        let a = assets();
        let enc = |accept: &str| {
            a.reply("app-0123abcd.js", accept, None)
                .unwrap()
                .headers()
                .get("content-encoding")
                .map(|v| v.to_str().unwrap().to_string())
        };
        assert_eq!(enc("gzip, deflate, br"), Some("br".into()));
        assert_eq!(enc("gzip"), Some("gzip".into()));
        assert_eq!(enc("br;q=0, gzip"), Some("gzip".into()));
        assert_eq!(enc(""), None);
        // Too small to be worth it: identity whatever is accepted.
        let small = a.reply("", "br", None).unwrap();
        assert!(small.headers().get("content-encoding").is_none());
        assert_eq!(small.headers()["cache-control"], "no-cache");
    }

    #[test]
    fn compressed_forms_decode_to_the_file() {
        let data = "受付 reception ".repeat(500).into_bytes();
        let mut out = Vec::new();
        brotli::BrotliDecompress(&mut &brotli(&data, 11)[..], &mut out).unwrap();
        assert_eq!(out, data);
        let mut out = Vec::new();
        std::io::Read::read_to_end(
            &mut flate2::read::GzDecoder::new(&gzip(&data, 9)[..]),
            &mut out,
        )
        .unwrap();
        assert_eq!(out, data);
    }

    #[test]
    fn inline_scripts_are_allowed_by_hash_only() {
        // echo -n "init()" | openssl dgst -sha256 -binary | base64
        let csp = csp_for(
            "text/html; charset=utf-8",
            b"<script type=\"module\">init()</script><script src=\"/a.js\"></script>",
        );
        assert!(csp.contains("script-src 'self' 'wasm-unsafe-eval' 'sha256-w4ujnOpjBoH2vcasx+reJRUwYivG8Q3afx/XevGJod8=';"), "{csp}");
        assert!(!csp_for("text/javascript", b"<script>x</script>").contains("sha256"));
        assert_eq!(base64(b"ab"), "YWI=");
        assert_eq!(base64(b"abc"), "YWJj");
        assert_eq!(base64(b"a"), "YQ==");
    }

    #[test]
    fn etag_revalidates_and_unknown_paths_are_none() {
        let a = assets();
        let first = a.reply("app-0123abcd.js", "", None).unwrap();
        let etag = first.headers().get("etag").unwrap().to_str().unwrap().to_string();
        assert_eq!(first.headers()["cache-control"], "public, max-age=31536000, immutable");
        let again = a.reply("app-0123abcd.js", "", Some(&etag)).unwrap();
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
        assert!(a.reply("nope.js", "", None).is_none());
    }
}
