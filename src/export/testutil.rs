//! Test-only readers of what the writers produce: a ZIP reader (central
//! directory, ZIP64 extra fields, raw inflate) and helpers that run the
//! stdlib's `python3 -m zipfile -t` and Info-ZIP's `unzip -t` when present.

use std::io::Write;
use std::process::Command;

use flate2::{Decompress, FlushDecompress, Status};
use proptest::prelude::*;

fn u16_at(b: &[u8], i: usize) -> u16 {
    u16::from_le_bytes(b[i..i + 2].try_into().unwrap())
}
fn u32_at(b: &[u8], i: usize) -> u32 {
    u32::from_le_bytes(b[i..i + 4].try_into().unwrap())
}
fn u64_at(b: &[u8], i: usize) -> u64 {
    u64::from_le_bytes(b[i..i + 8].try_into().unwrap())
}

/// One entry read back: name and inflated data (CRC checked).
pub(crate) struct ReadEntry {
    pub name: String,
    pub data: Vec<u8>,
}

/// The data of the entry `name` (panics if absent).
pub(crate) fn entry(z: &[u8], name: &str) -> String {
    let e = unzip(z)
        .into_iter()
        .find(|e| e.name == name)
        .expect("entry");
    String::from_utf8(e.data).unwrap()
}

/// Reads a whole archive through its central directory, as Excel does.
pub(crate) fn unzip(z: &[u8]) -> Vec<ReadEntry> {
    let eocd = (0..=z.len() - 22)
        .rev()
        .find(|&i| u32_at(z, i) == 0x0605_4b50)
        .expect("no end of central directory");
    let mut count = u64::from(u16_at(z, eocd + 10));
    let mut cd = u64::from(u32_at(z, eocd + 16));
    if eocd >= 20 && u32_at(z, eocd - 20) == 0x0706_4b50 {
        let rec = u64_at(z, eocd - 12) as usize;
        assert_eq!(u32_at(z, rec), 0x0606_4b50, "zip64 end record");
        count = u64_at(z, rec + 32);
        cd = u64_at(z, rec + 48);
    }
    let mut p = cd as usize;
    let mut out = Vec::new();
    for _ in 0..count {
        assert_eq!(u32_at(z, p), 0x0201_4b50, "central header at {p}");
        let crc = u32_at(z, p + 16);
        let mut csize = u64::from(u32_at(z, p + 20));
        let mut usize_ = u64::from(u32_at(z, p + 24));
        let (nlen, xlen, clen) = (
            usize::from(u16_at(z, p + 28)),
            usize::from(u16_at(z, p + 30)),
            usize::from(u16_at(z, p + 32)),
        );
        let mut off = u64::from(u32_at(z, p + 42));
        let name = String::from_utf8(z[p + 46..p + 46 + nlen].to_vec()).unwrap();
        let mut x = p + 46 + nlen;
        let xend = x + xlen;
        while x < xend {
            let (id, len) = (u16_at(z, x), usize::from(u16_at(z, x + 2)));
            if id == 1 {
                let mut q = x + 4;
                for v in [&mut usize_, &mut csize, &mut off] {
                    if *v == 0xFFFF_FFFF {
                        *v = u64_at(z, q);
                        q += 8;
                    }
                }
            }
            x += 4 + len;
        }
        let l = off as usize;
        assert_eq!(u32_at(z, l), 0x0403_4b50, "local header of {name}");
        assert_eq!(u16_at(z, l + 6) & 8, 8, "data descriptor flag");
        let data_at = l + 30 + usize::from(u16_at(z, l + 26)) + usize::from(u16_at(z, l + 28));
        let raw = &z[data_at..data_at + csize as usize];
        let data = inflate(raw, usize_ as usize);
        let mut c = flate2::Crc::new();
        c.update(&data);
        assert_eq!(c.sum(), crc, "crc of {name}");
        assert_eq!(
            u32_at(z, data_at + raw.len()),
            0x0807_4b50,
            "descriptor of {name}"
        );
        assert_eq!(u32_at(z, data_at + raw.len() + 4), crc);
        out.push(ReadEntry { name, data });
        p = xend + clen;
    }
    out
}

fn inflate(raw: &[u8], size: usize) -> Vec<u8> {
    let mut d = Decompress::new(false);
    let mut out = Vec::with_capacity(size + 1);
    let st = d
        .decompress_vec(raw, &mut out, FlushDecompress::Finish)
        .unwrap();
    assert_eq!(st, Status::StreamEnd, "deflate stream must end");
    assert_eq!(d.total_in() as usize, raw.len(), "trailing deflate bytes");
    assert_eq!(out.len(), size);
    out
}

/// Writes `bytes` to a temporary file and runs `python3 -m zipfile -t` and
/// `unzip -tq` on it (each skipped with a note when not installed).
pub(crate) fn external_zip_checks(bytes: &[u8]) {
    let mut f = tempfile::Builder::new().suffix(".zip").tempfile().unwrap();
    f.write_all(bytes).unwrap();
    f.flush().unwrap();
    check_file_externally(f.path());
}

/// `python3 -m zipfile -t` and `unzip -tq` on a file, if installed.
pub(crate) fn check_file_externally(path: &std::path::Path) {
    for (tool, args) in [
        ("python3", &["-m", "zipfile", "-t"][..]),
        ("unzip", &["-tq"][..]),
    ] {
        match Command::new(tool).args(args).arg(path).output() {
            // `zipfile -t` exits 0 even when it finds a bad CRC: read stdout.
            Ok(o) => assert!(
                o.status.success() && !String::from_utf8_lossy(&o.stdout).contains("corrupt"),
                "{tool} rejects the archive: {}{}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            ),
            Err(e) => eprintln!("note: {tool} not run ({e})"),
        }
    }
}

/// Strings biased towards what breaks writers (shared with the xlsx tests).
pub(crate) fn hostile_text() -> impl Strategy<Value = String> {
    let atoms = prop::sample::select(vec![
        "=",
        "+",
        "-",
        "@",
        "'",
        "\t",
        "\r",
        "\n",
        "\r\n",
        "\"",
        ",",
        " ",
        "_x0041_",
        "_x005F_",
        "_x",
        "_",
        "\u{0}",
        "\u{1}",
        "\u{b}",
        "\u{1f}",
        "\u{7f}",
        "\u{85}",
        "\u{fffe}",
        "\u{ffff}",
        "\u{fffd}",
        "\u{feff}",
        "\u{d7ff}",
        "\u{e000}",
        "\u{10ffff}",
        "＝",
        "＋",
        "－",
        "＠",
        "&",
        "<",
        ">",
        "]]>",
        "&amp;",
        "😀",
        "राजेश",
        "a",
        "1E5",
    ]);
    let piece = prop_oneof![
        atoms.prop_map(str::to_owned),
        any::<char>().prop_map(String::from),
        "[a-z ]{0,8}",
    ];
    prop::collection::vec(piece, 0..12).prop_map(|v| v.concat())
}
