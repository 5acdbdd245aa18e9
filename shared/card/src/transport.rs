//! The one thing card logic needs from a reader: send a command, get the response.
//!
//! Implemented by the bridge's PC/SC reader, later by the page's WebUSB drivers, and by
//! the in-memory virtual card. Operations are generic over it, so the same JPKI code runs
//! everywhere.

use crate::apdu::{Command, Response};

/// Why a command did not come back with a response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    #[error(
        "カードが取り外されました。もう一度置いてください / the card was removed: place it again"
    )]
    CardRemoved,
    #[error("カードリーダーが見つかりません / the card reader is gone")]
    ReaderGone,
    #[error("カードリーダーが他の処理で使用中です / the reader is busy with another operation")]
    Busy,
    #[error("カードとの通信に失敗しました: {0} / communication with the card failed: {0}")]
    Io(String),
    #[error(
        "カードの応答が不正です（2バイト未満）/ the card's answer is malformed (under 2 bytes)"
    )]
    MalformedResponse,
}

/// A channel to one card. Driven from one thread at a time (a PC/SC worker, or the
/// browser's single thread), so no `Send` bound is promised on the futures.
#[allow(async_fn_in_trait)]
pub trait Transport {
    async fn transmit(&mut self, command: &Command) -> Result<Response, TransportError>;
}

impl<T: Transport + ?Sized> Transport for &mut T {
    async fn transmit(&mut self, command: &Command) -> Result<Response, TransportError> {
        (**self).transmit(command).await
    }
}

/// Counts the commands sent through it (for benchmarks and the APDU budget tests).
#[derive(Debug)]
pub struct Counting<T> {
    pub inner: T,
    pub commands: usize,
}

impl<T> Counting<T> {
    pub fn new(inner: T) -> Counting<T> {
        Counting { inner, commands: 0 }
    }
}

impl<T: Transport> Transport for Counting<T> {
    async fn transmit(&mut self, command: &Command) -> Result<Response, TransportError> {
        self.commands += 1;
        self.inner.transmit(command).await
    }
}
