//! Single compressed streams: gzip (`flate2`), xz and LZMA-alone (`liblzma`, with a decoder
//! memory limit), zstd, bzip2.

use std::io::Read;

use super::{at_name, ErrorKind, Format, UnpackError, Unpacker};

impl Unpacker<'_> {
    /// A single compressed stream: its output becomes a file (`<region>!/gunzip` …) and is
    /// then unpacked itself if it holds a known format, or signature-scanned.
    pub(super) fn stream(
        &mut self,
        format: Format,
        region: &str,
        data: &[u8],
        depth: u32,
    ) -> Result<usize, UnpackError> {
        let cap = self.stream_cap(data.len() as u64);
        let early = self
            .prefetched
            .remove(&(data.as_ptr() as usize, data.len()))
            .filter(|(out, _)| out.len() as u64 <= cap);
        let (out, used) = match early {
            Some(done) => done,
            None => decompress_stream(format, data, cap, region)?
                .ok_or_else(|| self.cap_error(cap, data.len() as u64, region))?,
        };
        let path = format!("/{}", format.suffix());
        let name = if region.is_empty() {
            path.clone()
        } else {
            format!("{region}!{path}")
        };
        self.expand_blob(region, path, &name, out, depth)?;
        Ok(used)
    }
}

/// Most memory an xz or lzma decoder may use (liblzma's memory limit): the stream header
/// declares the dictionary size and liblzma allocates it, so without a limit a 20-byte header
/// can ask for 4 GiB. `xz -9` needs 65 MiB to decompress and firmware rarely uses more than
/// 8 MiB; 256 MiB leaves room for unusual settings while keeping a hostile header from
/// exhausting memory. A stream that needs more is an unpack error naming it.
pub const LZMA_MEMORY_LIMIT: u64 = 256 << 20;

/// Decompress the one `format` stream at `data[0]`, producing at most `cap` bytes: its
/// output and how many input bytes it used, or `None` when the output would pass `cap`.
pub(super) fn decompress_stream(
    format: Format,
    data: &[u8],
    cap: u64,
    region: &str,
) -> Result<Option<(Vec<u8>, usize)>, UnpackError> {
    let name = format.name();
    let mut input: &[u8] = data;
    let mut out = Vec::new();
    let mut read_capped = |r: &mut dyn Read| {
        r.take(cap.saturating_add(1))
            .read_to_end(&mut out)
            .map_err(|e| stream_error(e, region, name))
    };
    let n = match format {
        Format::Gzip => read_capped(&mut flate2::bufread::GzDecoder::new(&mut input))?,
        Format::Xz => {
            let stream = liblzma::stream::Stream::new_stream_decoder(LZMA_MEMORY_LIMIT, 0)
                .map_err(|e| UnpackError::malformed(at_name(region), name, e.to_string()))?;
            read_capped(&mut liblzma::bufread::XzDecoder::new_stream(
                &mut input, stream,
            ))?
        }
        Format::Lzma => {
            let stream = liblzma::stream::Stream::new_lzma_decoder(LZMA_MEMORY_LIMIT)
                .map_err(|e| UnpackError::malformed(at_name(region), name, e.to_string()))?;
            read_capped(&mut liblzma::bufread::XzDecoder::new_stream(
                &mut input, stream,
            ))?
        }
        Format::Zstd => read_capped(
            &mut zstd::stream::read::Decoder::with_buffer(&mut input)
                .map_err(|e| stream_error(e, region, name))?
                .single_frame(),
        )?,
        Format::Bzip2 => read_capped(&mut bzip2::bufread::BzDecoder::new(&mut input))?,
        _ => unreachable!("not a stream format"),
    };
    if n as u64 > cap {
        return Ok(None);
    }
    Ok(Some((out, data.len() - input.len())))
}

pub(super) fn stream_error(e: std::io::Error, at: &str, format: &'static str) -> UnpackError {
    let over_memory = e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<liblzma::stream::Error>())
        .is_some_and(|inner| matches!(inner, liblzma::stream::Error::MemLimit));
    if over_memory {
        return UnpackError::new(
            at_name(at),
            ErrorKind::Limit {
                what: "decompressor memory (bytes; the stream header asks for a larger dictionary)",
                limit: LZMA_MEMORY_LIMIT,
            },
        );
    }
    if e.kind() == std::io::ErrorKind::UnexpectedEof {
        UnpackError::truncated(at_name(at), format, e.to_string())
    } else {
        UnpackError::malformed(at_name(at), format, e.to_string())
    }
}
