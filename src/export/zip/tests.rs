use super::*;
use crate::export::testutil::{check_file_externally, external_zip_checks, unzip};

/// Pseudo-random but compressible bytes (a tiny LCG over a small alphabet).
fn sample(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed;
    (0..len)
        .map(|_| {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            let alphabet = b"<c t=\"s\"><v>0123456789</v></c>\n";
            alphabet[(x >> 58) as usize % alphabet.len()]
        })
        .collect()
}

fn archive(limit: u64) -> (Vec<u8>, Vec<(&'static str, Vec<u8>)>) {
    let big = sample(3_000_000, 1);
    let mut z = ZipWriter::with_zip64_limit(Vec::new(), limit);
    z.add_entry("[Content_Types].xml", b"<Types/>").unwrap();
    z.add_entry("empty.xml", b"").unwrap();
    // streamed in uneven writes, with a flush in the middle
    z.start_entry("xl/worksheets/sheet1.xml").unwrap();
    for (i, part) in big.chunks(70_001).enumerate() {
        z.write(part).unwrap();
        if i == 3 {
            z.flush().unwrap();
        }
    }
    // mixed: streamed, then pieces deflated elsewhere, then streamed again
    z.start_entry("mixed/ünïcode name.xml").unwrap();
    let mut c = piece_compressor();
    let mut piece = DeflatedPiece::default();
    z.write(&big[..1000]).unwrap();
    for part in big[1000..2_500_000].chunks(1 << 20) {
        deflate_piece(&mut c, part, &mut piece).unwrap();
        z.write_deflated(&piece).unwrap();
    }
    z.write(&big[2_500_000..]).unwrap();
    // only pieces: the entry ends with an empty final block
    z.start_entry("pieces.xml").unwrap();
    for part in big.chunks(1 << 20) {
        deflate_piece(&mut c, part, &mut piece).unwrap();
        z.write_deflated(&piece).unwrap();
    }
    let n = z.bytes_written();
    let (bytes, total) = z.finish().unwrap();
    assert!(total > n);
    assert_eq!(total, bytes.len() as u64);
    let want = vec![
        ("[Content_Types].xml", b"<Types/>".to_vec()),
        ("empty.xml", vec![]),
        ("xl/worksheets/sheet1.xml", big.clone()),
        ("mixed/ünïcode name.xml", big.clone()),
        ("pieces.xml", big),
    ];
    (bytes, want)
}

fn check(bytes: &[u8], want: &[(&str, Vec<u8>)]) {
    let got = unzip(bytes);
    assert_eq!(got.len(), want.len());
    for (g, (name, data)) in got.iter().zip(want) {
        assert_eq!(g.name, *name);
        assert!(g.data == *data, "data of {name}");
    }
    external_zip_checks(bytes);
}

#[test]
fn entries_round_trip() {
    let (bytes, want) = archive(ZIP64_LIMIT);
    assert!(!bytes.windows(4).any(|w| w == EOCD64_SIG.to_le_bytes()));
    assert!(bytes.len() < 9_000_000 * 9 / 10, "{}", bytes.len());
    check(&bytes, &want);
}

#[test]
fn zip64_records_when_values_pass_the_limit() {
    // a limit of 1000: big entries, later offsets and the directory go ZIP64
    let (bytes, want) = archive(1000);
    assert!(bytes.windows(4).any(|w| w == EOCD64_SIG.to_le_bytes()));
    check(&bytes, &want);
}

#[test]
fn an_empty_archive_is_valid() {
    let (bytes, _) = ZipWriter::new(Vec::new()).finish().unwrap();
    assert_eq!(bytes.len(), 22);
    assert!(unzip(&bytes).is_empty());
}

#[test]
fn writing_without_an_entry_is_an_error() {
    let mut z = ZipWriter::new(Vec::new());
    assert!(z.write(b"x").is_err());
}

/// A real ZIP64 entry: 4.5 GiB of zeros (an 8-byte-size data descriptor and
/// directory record) and a small entry after it. ~30 s in release.
#[test]
#[ignore = "writes 4.5 GiB through deflate; run with --ignored --release"]
fn zip64_entry_past_4_gib() {
    let mut f = tempfile::Builder::new().suffix(".zip").tempfile().unwrap();
    let mut z = ZipWriter::new(std::io::BufWriter::new(f.as_file_mut()));
    z.start_entry("zeros.bin").unwrap();
    let block = vec![0u8; 1 << 24];
    for _ in 0..(9u64 << 29) / block.len() as u64 {
        z.write(&block).unwrap();
    }
    z.add_entry("after.txt", b"still here").unwrap();
    z.finish().unwrap();
    check_file_externally(f.path());
}
