//! The patient across visits: who they are for the counts and the patient index, and what
//! changed in their insurance since the last confirmed visit.

use crate::{Patient, Reception};

/// Kana and name compared as staff type them: spaces (half and full width) ignored.
fn folded(text: &str) -> String {
    text.chars().filter(|c| !c.is_whitespace()).collect()
}

fn digest(parts: &[&str]) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            hash = (hash ^ u64::from(b'|')).wrapping_mul(0x0100_0000_01b3);
        }
        for b in part.bytes() {
            hash = (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{hash:016x}")
}

/// The person a reception stands for in the distinct-person counts: a 64-bit FNV-1a
/// digest of kana (else name) and birth date — or the digest a counting-only row kept.
pub fn person_key(p: &Patient) -> Option<String> {
    if let Some(key) = p.key.as_deref().filter(|k| !k.is_empty()) {
        return Some(key.to_string());
    }
    let who = p.kana.as_deref().or(p.name.as_deref()).map(str::trim).filter(|s| !s.is_empty())?;
    let birth = p.birth.as_deref().map(str::trim).filter(|s| !s.is_empty())?;
    Some(digest(&[who, birth]))
}

/// The keys of the patient index: the clinic's own patient id when staff typed one, kana
/// and birth date, name and birth date (spaces ignored) — a wizard that captured only the
/// name finds the patient a card confirmed with kana. The insurance numbers are
/// deliberately not part of them: a changed 保険者番号 must find the same patient, so that
/// the change is shown.
pub fn index_keys(p: &Patient) -> Vec<String> {
    let mut keys = Vec::new();
    if let Some(id) = p.clinic_id.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        keys.push(format!("id:{}", digest(&[id])));
    }
    if let Some(birth) = p.birth.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        for (tag, who) in [("kana", &p.kana), ("name", &p.name)] {
            if let Some(who) = who.as_deref().map(folded).filter(|s| !s.is_empty()) {
                keys.push(format!("{tag}:{}", digest(&[&who, birth])));
            }
        }
    }
    keys
}

/// One field that differs from the last confirmed visit.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Change {
    /// 保険者番号, 記号・番号・枝番, 負担割合, 氏名.
    pub field: String,
    pub before: String,
    pub after: String,
}

impl Change {
    /// `保険者番号 01130012 → 06139998`.
    pub fn display(&self) -> String {
        format!("{} {} → {}", self.field, self.before, self.after)
    }
}

/// What changed between the last confirmed reception and a new one, in the fields the
/// claim depends on. Fields unknown on either side are not compared.
pub fn changes(last: &Reception, new: &Reception) -> Vec<Change> {
    let mut out = Vec::new();
    let mut compare = |field: &str, before: Option<String>, after: Option<String>| {
        if let (Some(b), Some(a)) = (before, after) {
            if b != a {
                out.push(Change { field: field.to_string(), before: b, after: a });
            }
        }
    };
    let (a, b) = (last.claim_numbers(), new.claim_numbers());
    compare("保険者番号", a.map(|n| n.insurer.clone()), b.map(|n| n.insurer.clone()));
    let rest = |n: &crate::Numbers| {
        format!(
            "{}・{}・{}",
            n.symbol.as_deref().unwrap_or("—"),
            n.number,
            n.branch.as_deref().unwrap_or("—")
        )
    };
    compare("記号・番号・枝番", a.map(rest), b.map(rest));
    let ratio = |r: &Reception| r.copay.as_ref().map(|c| format!("{}割", c.percent / 10));
    compare("負担割合", ratio(last), ratio(new));
    compare("氏名", last.patient.name.clone(), new.patient.name.clone());
    out
}
