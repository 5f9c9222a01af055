use super::*;
use crate::export::row::ColumnKind;
use crate::export::testutil::hostile_text;
use chrono::{NaiveDate, TimeZone, Utc};
use proptest::prelude::*;

/// A tiny RFC 4180 reader: BOM, quoted fields, `""`, CRLF rows.
fn read_csv(bytes: &[u8]) -> Vec<Vec<String>> {
    let s = std::str::from_utf8(bytes.strip_prefix(BOM).expect("BOM")).unwrap();
    let (mut rows, mut row, mut field) = (Vec::new(), Vec::new(), String::new());
    let mut chars = s.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') if field.is_empty() => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\r') => {
                assert_eq!(chars.next(), Some('\n'), "bare CR outside quotes");
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => {
                assert!(c != '\n' && c != '"', "unquoted {c:?}");
                field.push(c);
            }
        }
    }
    assert!(
        !quoted && field.is_empty() && row.is_empty(),
        "unterminated row"
    );
    rows
}

fn write(rows: &[Vec<Cell<'_>>]) -> Vec<u8> {
    let cols = [
        Column::new("Name", 10.0, ColumnKind::Text),
        Column::new("=Remarks, \"quoted\"", 10.0, ColumnKind::Text),
    ];
    let mut w = CsvWriter::new(Vec::new(), &cols).unwrap();
    for r in rows {
        w.write_row(r).unwrap();
    }
    let n = w.bytes_written();
    let f = w.finish().unwrap();
    assert_eq!(
        (f.rows, f.bytes, f.out.len() as u64),
        (rows.len() as u64, n, n)
    );
    f.out
}

#[test]
fn guard_cases() {
    let guarded = [
        "=1+1",
        "+91 98400",
        "-2",
        "@SUM(1)",
        "\t=1",
        "\r=1",
        "＝1",
        "＋9",
        "－2",
        "＠x",
        "'=1",
        "''+1",
    ];
    for s in guarded {
        assert!(needs_csv_guard(s), "{s:?}");
        let g = format!("'{s}");
        assert_eq!(strip_csv_guard(&g), s);
    }
    for s in [
        "",
        "'",
        "''",
        "abc",
        " =1",
        "'abc",
        "1-2",
        "{=SUM(1)}",
        "#N/A",
        "﹦",
        "x=",
    ] {
        assert!(!needs_csv_guard(s), "{s:?}");
        assert_eq!(strip_csv_guard(s), s, "{s:?}");
    }
}

#[test]
fn fields_and_rows() {
    let d = NaiveDate::from_ymd_opt(2024, 3, 15).unwrap();
    let t = Utc.with_ymd_and_hms(2024, 3, 15, 6, 30, 5).unwrap();
    let rows = vec![
        vec![Cell::Text("plain"), Cell::Text("a,b")],
        vec![Cell::Text("say \"hi\""), Cell::Text("l1\nl2\r\nl3")],
        vec![Cell::Text("=1+1"), Cell::Text(" padded ")],
        vec![Cell::Empty, Cell::SharedText("S1")],
        vec![Cell::Date(d), Cell::DateTime(t)],
        vec![Cell::Text("\r=cr"), Cell::Text("-")],
    ];
    let out = write(&rows);
    let text = String::from_utf8(out[3..].to_vec()).unwrap();
    assert_eq!(
        text,
        concat!(
            "Name,\"'=Remarks, \"\"quoted\"\"\"\r\n",
            "plain,\"a,b\"\r\n",
            "\"say \"\"hi\"\"\",\"l1\nl2\r\nl3\"\r\n",
            "'=1+1,\" padded \"\r\n",
            ",S1\r\n",
            "2024-03-15,2024-03-15 12:00:05\r\n",
            "\"'\r=cr\",'-\r\n",
        )
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Any text, including controls, CR, quotes, leading `= + - @ '`,
    /// full-width triggers and noncharacters, comes back exactly once the
    /// guard is stripped.
    #[test]
    fn csv_round_trip(cells in prop::collection::vec(hostile_text(), 1..6)) {
        let row: Vec<Cell<'_>> = cells.iter().map(|s| Cell::Text(s)).collect();
        let out = write(&[row]);
        let back = read_csv(&out);
        prop_assert_eq!(back.len(), 2);
        let got: Vec<&str> = back[1].iter().map(|s| strip_csv_guard(s)).collect();
        prop_assert_eq!(got, cells.iter().map(String::as_str).collect::<Vec<_>>());
    }
}
