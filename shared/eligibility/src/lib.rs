//! The rules of オンライン資格確認 at the reception counter, as pure functions.
//!
//! - [`identifiers`]: 保険者番号, 公費負担者番号, 受給者番号, 記号・番号・枝番 and the 不詳
//!   placeholders, as types that hold only valid values.
//! - [`policy`]: the dated policy table (`policy.toml`): every rule that depends on a date.
//! - [`acceptance`]: which document proves qualification on a visit date.
//! - [`copay`]: 負担割合 from the national system's answer, or estimated from age.
//! - [`expiry`]: the electronic certificate's expiry, grace and the patient's slip.
//!
//! Nothing here does I/O or reads a clock: dates are parameters. Every function returns
//! a typed value or a typed error for any input; none panics.
#![forbid(unsafe_code)]

pub mod acceptance;
pub mod age;
pub mod copay;
pub mod date;
pub mod expiry;
pub mod identifiers;
pub mod order;
pub mod policy;
pub mod text;

pub use acceptance::{accept, Acceptance, Document, Online, Presentation};
pub use age::{age_on, AgeBand};
pub use copay::{copay, Copay, CopayFields};
pub use date::{jst_datetime, jst_day, Date, DateError, YearMonth};
pub use identifiers::{
    IdentifierError, InsuredCard, InsurerNumber, PublicPayerNumber, RecipientNumber,
    UnknownInsurerStyle, UnknownPlaceholders,
};
pub use policy::{Policy, PolicyError};
pub use text::Text;
