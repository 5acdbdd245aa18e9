//! `card::Transport` over a PC/SC card handle.

use card::apdu::{Command, Response};
use card::transport::{Transport, TransportError};
use zeroize::Zeroize;

pub(crate) struct PcscTransport<'a> {
    pub(crate) card: &'a pcsc::Card,
    pub(crate) reader: &'a str,
    pub(crate) commands: usize,
}

pub(crate) fn transport_error(e: pcsc::Error) -> TransportError {
    match e {
        pcsc::Error::RemovedCard
        | pcsc::Error::NoSmartcard
        | pcsc::Error::ResetCard
        | pcsc::Error::UnpoweredCard => TransportError::CardRemoved,
        pcsc::Error::UnknownReader
        | pcsc::Error::ReaderUnavailable
        | pcsc::Error::NoReadersAvailable => TransportError::ReaderGone,
        pcsc::Error::SharingViolation => TransportError::Busy,
        other => TransportError::Io(other.to_string()),
    }
}

impl Transport for PcscTransport<'_> {
    async fn transmit(&mut self, command: &Command) -> Result<Response, TransportError> {
        self.commands += 1;
        tracing::trace!(reader = self.reader, apdu = %command, "→");
        let mut bytes = command.to_bytes();
        let mut buffer = [0u8; pcsc::MAX_BUFFER_SIZE];
        let result = self.card.transmit(&bytes, &mut buffer).map(<[u8]>::to_vec);
        if command.carries_secret() {
            bytes.zeroize();
        }
        let answer = result.map_err(transport_error)?;
        let Some(response) = Response::parse(&answer) else {
            // No status word at all: the card left the field mid-command (the reader may
            // still report it present for a moment). One stray byte is just malformed.
            return Err(if answer.is_empty() {
                TransportError::CardRemoved
            } else {
                TransportError::MalformedResponse
            });
        };
        tracing::trace!(
            reader = self.reader,
            sw = format_args!("{:04X}", response.sw),
            len = response.data.len(),
            "←"
        );
        Ok(response)
    }
}
