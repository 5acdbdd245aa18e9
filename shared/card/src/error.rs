//! Errors of card operations, each saying what the receptionist should do next.

use crate::pin::PinKind;
use crate::transport::TransportError;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CardError {
    #[error(transparent)]
    Transport(#[from] TransportError),
    #[error("マイナンバーカード（またはスマホ用電子証明書）ではありません。カードの向きと種類を確認してください / not a My Number card or phone certificate: check the card")]
    NotMyNumberCard,
    #[error(
        "このカードの種類（{0}）には対応していません / this kind of card ({0}) is not supported"
    )]
    UnknownToken(String),
    #[error("このカード（スマホ）には券面事項入力補助APがありません / this card or phone has no text application")]
    NoTextApplication,
    #[error("{0}はロックされています。市区町村の窓口で初期化が必要です（資格確認は他の方法で）/ the {0} is locked: the patient must reset it at the municipal office; confirm eligibility another way")]
    PinBlocked(PinKind),
    #[error("{0}の残り回数は1回です。間違えるとロックされます。職員の確認のうえ入力してください / one try left for the {0}: a wrong entry locks it; staff must confirm before trying")]
    LastTryNeedsConfirmation(PinKind),
    #[error("{kind}が違います（残り{tries_left}回）/ wrong {kind} ({tries_left} tries left)")]
    WrongPin { kind: PinKind, tries_left: u8 },
    #[error("暗証番号は数字4桁です / the PIN is 4 digits")]
    PinFormat,
    #[error("先に暗証番号の入力が必要です / the PIN must be entered first")]
    PinRequiredFirst,
    #[error("カードが想定外の応答をしました（{step}: {sw:04X}）。カードを置き直してください / unexpected card status during {step}: {sw:04X}; place the card again")]
    UnexpectedStatus { step: &'static str, sw: u16 },
    #[error("カードのデータを読めません（{what}: {detail}）/ the card's data is malformed ({what}: {detail})")]
    Malformed { what: &'static str, detail: String },
}

impl CardError {
    pub(crate) fn malformed(what: &'static str, detail: impl ToString) -> CardError {
        CardError::Malformed { what, detail: detail.to_string() }
    }
}
