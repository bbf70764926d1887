//! Framing (docs/PROTOCOL.md "Frames"): `VE`, version 1, u32 LE payload length, payload. Works on bytes only.

/// `'V' 'E'`.
pub const MAGIC: [u8; 2] = [0x56, 0x45];
pub const PROTOCOL_VERSION: u8 = 1;
pub const HEADER_LEN: usize = 7;
/// Largest payload either side sends or accepts (`frame_bytes_max`).
pub const FRAME_BYTES_MAX: usize = 16 * 1024 * 1024;

/// A frame that cannot be read; the connection carrying it is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("bad frame magic (expected 0x56 0x45 \"VE\"): the peer does not speak the Velos protocol")]
    BadMagic,
    #[error("unsupported protocol version {0} (this side speaks version 1)")]
    BadVersion(u8),
    #[error("frame payload of {0} bytes is over the 16 MiB limit")]
    TooLarge(u32),
}

/// The 7-byte header then `payload`. Errors when the payload is over [`FRAME_BYTES_MAX`].
pub fn encode_frame(payload: &[u8]) -> Result<Vec<u8>, FrameError> {
    let length = u32::try_from(payload.len()).unwrap_or(u32::MAX);
    if payload.len() > FRAME_BYTES_MAX {
        return Err(FrameError::TooLarge(length));
    }
    let mut frame = Vec::with_capacity(HEADER_LEN + payload.len());
    frame.extend_from_slice(&MAGIC);
    frame.push(PROTOCOL_VERSION);
    frame.extend_from_slice(&length.to_le_bytes());
    frame.extend_from_slice(payload);
    Ok(frame)
}

/// Checks the header at the start of `bytes` and returns `Some(payload_len)` once all 7 header bytes are
/// there. A wrong magic or version is reported as soon as its byte arrives.
pub fn decode_header(bytes: &[u8]) -> Result<Option<usize>, FrameError> {
    let magic_seen = bytes.len().min(MAGIC.len());
    if bytes[..magic_seen] != MAGIC[..magic_seen] {
        return Err(FrameError::BadMagic);
    }
    if let Some(&version) = bytes.get(2) {
        if version != PROTOCOL_VERSION {
            return Err(FrameError::BadVersion(version));
        }
    }
    let Some(length_bytes) = bytes.get(3..HEADER_LEN) else { return Ok(None) };
    let length = u32::from_le_bytes([length_bytes[0], length_bytes[1], length_bytes[2], length_bytes[3]]);
    if length as usize > FRAME_BYTES_MAX {
        return Err(FrameError::TooLarge(length));
    }
    Ok(Some(length as usize))
}

/// An incremental frame decoder: push bytes as they arrive, take whole payloads out. Pure, no IO.
///
/// After an error the decoder stays failed (the stream has lost its framing); make a new one.
#[derive(Debug, Default)]
pub struct FrameDecoder {
    buffer: Vec<u8>,
    /// Bytes of `buffer` already handed out; compacted away on the next push.
    consumed: usize,
    failed: Option<FrameError>,
}

impl FrameDecoder {
    pub fn new() -> FrameDecoder {
        FrameDecoder::default()
    }

    pub fn push(&mut self, bytes: &[u8]) {
        if self.consumed > 0 {
            self.buffer.drain(..self.consumed);
            self.consumed = 0;
        }
        self.buffer.extend_from_slice(bytes);
    }

    /// The next whole payload, `Ok(None)` when more bytes are needed.
    pub fn next_frame(&mut self) -> Result<Option<Vec<u8>>, FrameError> {
        if let Some(error) = &self.failed {
            return Err(error.clone());
        }
        let pending = &self.buffer[self.consumed..];
        if pending.is_empty() {
            return Ok(None);
        }
        let length = match decode_header(pending) {
            Ok(Some(length)) => length,
            Ok(None) => return Ok(None),
            Err(error) => {
                self.failed = Some(error.clone());
                return Err(error);
            }
        };
        let Some(payload) = pending.get(HEADER_LEN..HEADER_LEN + length) else { return Ok(None) };
        let payload = payload.to_vec();
        self.consumed += HEADER_LEN + length;
        Ok(Some(payload))
    }

    /// Bytes received but not yet returned as a frame.
    pub fn pending_len(&self) -> usize {
        self.buffer.len() - self.consumed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(payload: &[u8]) -> Vec<u8> {
        encode_frame(payload).expect("small payload")
    }

    #[test]
    fn header_layout() {
        assert_eq!(frame(&[0x80]), vec![0x56, 0x45, 0x01, 0x01, 0x00, 0x00, 0x00, 0x80]);
    }

    #[test]
    fn one_byte_at_a_time() {
        let payload: Vec<u8> = (0..300u32).map(|index| index as u8).collect();
        let bytes = frame(&payload);
        let mut decoder = FrameDecoder::new();
        for (index, byte) in bytes.iter().enumerate() {
            assert_eq!(decoder.next_frame(), Ok(None), "before byte {index}");
            decoder.push(&[*byte]);
        }
        assert_eq!(decoder.next_frame(), Ok(Some(payload)));
        assert_eq!(decoder.next_frame(), Ok(None));
        assert_eq!(decoder.pending_len(), 0);
    }

    #[test]
    fn two_frames_in_one_buffer_then_a_partial_one() {
        let mut bytes = frame(b"\x81\xa1a\x01");
        bytes.extend(frame(&[]));
        let third = frame(b"\x90");
        bytes.extend_from_slice(&third[..4]);
        let mut decoder = FrameDecoder::new();
        decoder.push(&bytes);
        assert_eq!(decoder.next_frame(), Ok(Some(b"\x81\xa1a\x01".to_vec())));
        assert_eq!(decoder.next_frame(), Ok(Some(Vec::new())));
        assert_eq!(decoder.next_frame(), Ok(None));
        decoder.push(&third[4..]);
        assert_eq!(decoder.next_frame(), Ok(Some(b"\x90".to_vec())));
        assert_eq!(decoder.next_frame(), Ok(None));
    }

    #[test]
    fn bad_magic_is_seen_on_the_first_byte() {
        let mut decoder = FrameDecoder::new();
        decoder.push(b"G");
        assert_eq!(decoder.next_frame(), Err(FrameError::BadMagic));
        // It stays failed even if good bytes follow.
        decoder.push(&frame(&[0x80]));
        assert!(decoder.next_frame().is_err());
    }

    #[test]
    fn bad_version_and_too_large() {
        let mut decoder = FrameDecoder::new();
        decoder.push(&[0x56, 0x45, 0x02]);
        assert_eq!(decoder.next_frame(), Err(FrameError::BadVersion(2)));

        let mut decoder = FrameDecoder::new();
        let length = (FRAME_BYTES_MAX as u32 + 1).to_le_bytes();
        decoder.push(&[0x56, 0x45, 0x01, length[0], length[1], length[2], length[3]]);
        assert_eq!(decoder.next_frame(), Err(FrameError::TooLarge(FRAME_BYTES_MAX as u32 + 1)));

        // Exactly at the limit is fine (and incomplete).
        let mut decoder = FrameDecoder::new();
        let length = (FRAME_BYTES_MAX as u32).to_le_bytes();
        decoder.push(&[0x56, 0x45, 0x01, length[0], length[1], length[2], length[3]]);
        assert_eq!(decoder.next_frame(), Ok(None));
    }

    #[test]
    fn encoder_refuses_a_payload_over_the_limit() {
        let payload = vec![0u8; FRAME_BYTES_MAX + 1];
        assert_eq!(encode_frame(&payload), Err(FrameError::TooLarge(FRAME_BYTES_MAX as u32 + 1)));
    }
}
