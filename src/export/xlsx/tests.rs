use super::*;
use crate::export::row::ColumnKind;
use crate::export::testutil::{entry, external_zip_checks, hostile_text, unzip};
use crate::export::text::decode_xml_text;
use chrono::{NaiveDate, TimeZone, Utc};
use proptest::prelude::*;

/// A cell as read back by [`read_workbook`].
#[derive(Debug, Clone, PartialEq)]
enum Got {
    Empty,
    Text(String),
    /// A number cell with its style id.
    Num(u8, String),
}

/// One sheet read back: name, rows (header included), autofilter ref, pane.
#[derive(Debug)]
struct ReadSheet {
    name: String,
    rows: Vec<Vec<Got>>,
    filter: String,
    frozen: bool,
}

fn attr<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let k = format!(" {name}=\"");
    let i = tag.find(&k)? + k.len();
    Some(&tag[i..i + tag[i..].find('"')?])
}

/// The text of the first `<t …>…</t>` in `x`.
fn t_text(x: &str) -> String {
    let open = x.find("<t").unwrap();
    let start = open + x[open..].find('>').unwrap() + 1;
    decode_xml_text(&x[start..start + x[start..].find("</t>").unwrap()])
}

/// Reads our own xlsx: workbook order, shared strings, inline strings.
fn read_workbook(bytes: &[u8]) -> Vec<ReadSheet> {
    let entries = unzip(bytes);
    let part = |name: &str| {
        let e = entries.iter().find(|e| e.name == name);
        e.map(|e| String::from_utf8(e.data.clone()).expect("UTF-8 part"))
    };
    let sst: Vec<String> = part("xl/sharedStrings.xml")
        .map(|x| x.split("<si>").skip(1).map(t_text).collect())
        .unwrap_or_default();
    let wb = part("xl/workbook.xml").expect("workbook");
    let types = part("[Content_Types].xml").expect("content types");
    let mut out = Vec::new();
    for (i, tag) in wb
        .split("<sheet")
        .filter(|t| t.starts_with(' '))
        .enumerate()
    {
        let name = decode_xml_text(attr(tag, "name").unwrap());
        let path = format!("xl/worksheets/sheet{}.xml", i + 1);
        assert!(
            types.contains(&format!("/{path}")),
            "content type of {path}"
        );
        let x = part(&path).expect("sheet part");
        let data = &x[x.find("<sheetData>").unwrap()..x.find("</sheetData>").unwrap()];
        let mut rows = Vec::new();
        for (n, row) in data.split("<row").skip(1).enumerate() {
            assert_eq!(attr(row, "r"), Some((n + 1).to_string().as_str()));
            let mut cells = Vec::new();
            for c in row.split("<c").skip(1) {
                if c.starts_with("/>") {
                    cells.push(Got::Empty);
                } else if attr(c, "t") == Some("inlineStr") {
                    cells.push(Got::Text(t_text(c)));
                } else {
                    let v = &c[c.find("<v>").unwrap() + 3..c.find("</v>").unwrap()];
                    if attr(c, "t") == Some("s") {
                        cells.push(Got::Text(sst[v.parse::<usize>().unwrap()].clone()));
                    } else {
                        let s = attr(c, "s").unwrap().parse().unwrap();
                        cells.push(Got::Num(s, v.to_owned()));
                    }
                }
            }
            rows.push(cells);
        }
        let filter = attr(&x[x.find("<autoFilter").unwrap()..], "ref").unwrap();
        let frozen = x.contains("<pane ySplit=\"1\" topLeftCell=\"A2\"");
        out.push(ReadSheet {
            name,
            rows,
            filter: filter.to_owned(),
            frozen,
        });
    }
    out
}

fn columns() -> Vec<Column> {
    vec![
        Column::new("Name", 24.0, ColumnKind::Text),
        Column::new("Stage", 8.0, ColumnKind::Text),
        Column::new("End Date", 12.0, ColumnKind::Date),
        Column::new("Created At", 20.0, ColumnKind::DateTime),
    ]
}

fn write_with(opts: XlsxOptions, rows: &[Vec<Cell<'_>>]) -> Vec<u8> {
    let mut w = XlsxWriter::new(Vec::new(), &columns(), opts).unwrap();
    let first = w.bytes_written();
    assert!(first > 0, "first bytes leave at once");
    for r in rows {
        w.write_row(r).unwrap();
    }
    let f = w.finish().unwrap();
    assert_eq!(f.rows, rows.len() as u64);
    assert_eq!(f.bytes, f.out.len() as u64);
    f.out
}

fn header() -> Vec<Got> {
    ["Name", "Stage", "End Date", "Created At"]
        .map(|h| Got::Text(h.to_owned()))
        .to_vec()
}

#[test]
fn cells_read_back() {
    let d = NaiveDate::from_ymd_opt(2024, 3, 15).unwrap();
    let t =
        Utc.with_ymd_and_hms(2024, 3, 15, 6, 30, 0).unwrap() + chrono::Duration::milliseconds(250);
    let long = "X".repeat(39_990) + " 40k chars";
    let rows = vec![
        vec![
            Cell::Text("Asha"),
            Cell::SharedText("S1"),
            Cell::Date(d),
            Cell::DateTime(t),
        ],
        vec![
            Cell::Text("=1+1"),
            Cell::SharedText("S1"),
            Cell::Empty,
            Cell::Empty,
        ],
        vec![
            Cell::Empty,
            Cell::SharedText("S2"),
            Cell::Empty,
            Cell::DateTime(t),
        ],
        vec![Cell::Text(&long)],
        vec![Cell::Date(NaiveDate::from_ymd_opt(1850, 1, 2).unwrap())],
    ];
    let bytes = write_with(XlsxOptions::default(), &rows);
    external_zip_checks(&bytes);
    let sheets = read_workbook(&bytes);
    assert_eq!(sheets.len(), 1);
    let s = &sheets[0];
    assert_eq!(
        (s.name.as_str(), s.filter.as_str(), s.frozen),
        ("Driver Leads", "A1:D6", true)
    );
    let text = |s: &str| Got::Text(s.to_owned());
    assert_eq!(s.rows[0], header());
    let dt = Got::Num(3, "45366.5000028936".to_owned());
    assert_eq!(
        s.rows[1],
        [
            text("Asha"),
            text("S1"),
            Got::Num(2, "45366".into()),
            dt.clone()
        ]
    );
    assert_eq!(s.rows[2], [text("=1+1"), text("S1")]);
    assert_eq!(s.rows[3], [Got::Empty, text("S2"), Got::Empty, dt]);
    let Got::Text(cut) = &s.rows[4][0] else {
        panic!()
    };
    assert!(cut.starts_with(&long[..32_000]) && cut.ends_with(" more characters]"));
    assert!((32_760..=32_767).contains(&cut.encode_utf16().count()));
    assert_eq!(s.rows[5], [text("1850-01-02")]);
}

#[test]
fn rows_roll_over_to_numbered_sheets() {
    let names: Vec<String> = (0..25).map(|i| format!("lead {i}")).collect();
    let rows: Vec<Vec<Cell<'_>>> = names.iter().map(|n| vec![Cell::Text(n)]).collect();
    let opts = XlsxOptions {
        max_rows_per_sheet: 10,
        ..XlsxOptions::default()
    };
    let bytes = write_with(opts, &rows);
    let sheets = read_workbook(&bytes);
    let got: Vec<(&str, usize, &str)> = sheets
        .iter()
        .map(|s| (s.name.as_str(), s.rows.len(), s.filter.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("Driver Leads", 11, "A1:D11"),
            ("Driver Leads (2)", 11, "A1:D11"),
            ("Driver Leads (3)", 6, "A1:D6")
        ]
    );
    let mut all = Vec::new();
    for s in &sheets {
        assert!(s.frozen);
        assert_eq!(s.rows[0], header());
        all.extend(s.rows[1..].iter().map(|r| r[0].clone()));
    }
    let want: Vec<Got> = names.iter().map(|n| Got::Text(n.clone())).collect();
    assert_eq!(all, want);
    let wb = entry(&bytes, "xl/workbook.xml");
    assert!(wb.contains("localSheetId=\"2\" hidden=\"1\">'Driver Leads (3)'!$A$1:$D$6<"));
}

#[test]
fn named_sheets_each_with_their_own_header() {
    let opts = XlsxOptions {
        sheet_name: "Call Report".into(),
        max_rows_per_sheet: 2,
        ..XlsxOptions::default()
    };
    let report = [
        Column::new("Metric", 20.0, ColumnKind::Text),
        Column::new("Count", 10.0, ColumnKind::Text),
    ];
    let mut w = XlsxWriter::new(Vec::new(), &report, opts).unwrap();
    w.write_row(&[Cell::Text("Total Assigned"), Cell::Text("3")])
        .unwrap();
    w.start_named_sheet("All Assigned", &columns()).unwrap();
    for n in ["a", "b", "c"] {
        w.write_row(&[Cell::Text(n), Cell::SharedText("S1")])
            .unwrap();
    }
    // a name used before is refused, and the workbook goes on
    assert!(w.start_named_sheet("all assigned", &columns()).is_err());
    assert!(w.start_named_sheet("bad:name", &columns()).is_err());
    w.start_named_sheet("RNR Details", &report[..1]).unwrap();
    w.write_row(&[Cell::Text("x")]).unwrap();
    let f = w.finish().unwrap();
    assert_eq!((f.rows, f.sheets), (5, 4));
    let sheets = read_workbook(&f.out);
    let got: Vec<(&str, usize, &str)> = sheets
        .iter()
        .map(|s| (s.name.as_str(), s.rows.len(), s.filter.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("Call Report", 2, "A1:B2"),
            ("All Assigned", 3, "A1:D3"),
            ("All Assigned (2)", 2, "A1:D2"),
            ("RNR Details", 2, "A1:A2")
        ]
    );
    assert_eq!(sheets[1].rows[0], header());
    assert_eq!(sheets[2].rows[1][0], Got::Text("c".into()));
    assert_eq!(sheets[3].rows[0], vec![Got::Text("Metric".into())]);
    external_zip_checks(&f.out);
}

#[test]
fn exactly_full_sheet_adds_no_empty_sheet() {
    let rows: Vec<Vec<Cell<'_>>> = (0..10).map(|_| vec![Cell::Text("x")]).collect();
    let opts = XlsxOptions {
        max_rows_per_sheet: 10,
        ..XlsxOptions::default()
    };
    assert_eq!(read_workbook(&write_with(opts, &rows)).len(), 1);
    // and an empty export is a header-only sheet
    let s = read_workbook(&write_with(XlsxOptions::default(), &[]));
    assert_eq!((s[0].rows.len(), s[0].filter.as_str()), (1, "A1:D1"));
}

#[test]
fn shared_strings_overflow_goes_inline() {
    let opts = XlsxOptions {
        shared_strings_max: 2,
        ..XlsxOptions::default()
    };
    let rows: Vec<Vec<Cell<'_>>> = ["a", "b", "c", "a", "d"]
        .iter()
        .map(|s| vec![Cell::Empty, Cell::SharedText(s)])
        .collect();
    let bytes = write_with(opts, &rows);
    let sst = entry(&bytes, "xl/sharedStrings.xml");
    assert!(sst.contains("count=\"3\" uniqueCount=\"2\""), "{sst}");
    let got: Vec<Got> = read_workbook(&bytes)[0].rows[1..]
        .iter()
        .map(|r| r[1].clone())
        .collect();
    let want: Vec<Got> = ["a", "b", "c", "a", "d"]
        .map(|s| Got::Text(s.into()))
        .to_vec();
    assert_eq!(got, want);
}

#[test]
fn bad_options_are_refused() {
    let bad = |o: XlsxOptions| XlsxWriter::new(Vec::new(), &columns(), o).is_err();
    let d = XlsxOptions::default;
    assert!(bad(XlsxOptions {
        max_rows_per_sheet: 0,
        ..d()
    }));
    assert!(bad(XlsxOptions {
        max_rows_per_sheet: 1_048_576,
        ..d()
    }));
    assert!(bad(XlsxOptions {
        sheet_name: "a/b".into(),
        ..d()
    }));
    assert!(bad(XlsxOptions {
        sheet_name: "x".repeat(25),
        ..d()
    }));
    assert!(XlsxWriter::new(Vec::new(), &[], d()).is_err());
}

#[test]
fn zip64_workbook_reads_back() {
    let opts = XlsxOptions {
        zip64_limit: 200,
        max_rows_per_sheet: 3,
        ..XlsxOptions::default()
    };
    let rows: Vec<Vec<Cell<'_>>> = (0..7).map(|_| vec![Cell::Text("zip64")]).collect();
    let bytes = write_with(opts, &rows);
    external_zip_checks(&bytes);
    assert_eq!(read_workbook(&bytes).len(), 3);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Hostile text comes back exactly, inline and shared; leading or
    /// trailing whitespace included.
    #[test]
    fn xlsx_text_round_trip(cells in prop::collection::vec(hostile_text(), 1..5)) {
        let row: Vec<Cell<'_>> = cells
            .iter()
            .enumerate()
            .map(|(i, s)| if i % 2 == 0 { Cell::Text(s) } else { Cell::SharedText(s) })
            .collect();
        let bytes = write_with(XlsxOptions::default(), &[row]);
        let got = read_workbook(&bytes).remove(0).rows.remove(1);
        let want: Vec<Got> = cells
            .iter()
            .map(|s| if s.is_empty() { Got::Empty } else { Got::Text(s.clone()) })
            .collect();
        let n = want.iter().rposition(|g| *g != Got::Empty).map_or(0, |i| i + 1);
        prop_assert_eq!(got, &want[..n]);
    }
}

#[test]
fn parallel_deflate_gives_the_same_workbook() {
    let names: Vec<String> = (0..40_000)
        .map(|i| format!("lead {i} {}", i * 7919))
        .collect();
    let t = Utc.with_ymd_and_hms(2024, 3, 15, 6, 30, 0).unwrap();
    let rows: Vec<Vec<Cell<'_>>> = names
        .iter()
        .map(|n| {
            vec![
                Cell::Text(n),
                Cell::SharedText("S1"),
                Cell::Empty,
                Cell::DateTime(t),
            ]
        })
        .collect();
    let write = |threads| {
        let opts = XlsxOptions {
            deflate_threads: threads,
            max_rows_per_sheet: 15_000,
            ..XlsxOptions::default()
        };
        let mut w = XlsxWriter::new(Vec::new(), &columns(), opts).unwrap();
        for (i, r) in rows.iter().enumerate() {
            w.write_row(r).unwrap();
            if i == 20_000 {
                w.flush().unwrap();
            }
        }
        assert!(w.sheet_xml_bytes() > 3 * PARALLEL_CHUNK as u64);
        w.finish().unwrap().out
    };
    let (one, two) = (write(1), write(2));
    external_zip_checks(&two);
    let (a, b) = (read_workbook(&one), read_workbook(&two));
    assert_eq!(b.len(), 3);
    for (a, b) in a.iter().zip(&b) {
        assert_eq!((&a.name, &a.rows, &a.filter), (&b.name, &b.rows, &b.filter));
    }
    // independent 1 MiB pieces cost little
    assert!(
        two.len() < one.len() * 102 / 100,
        "{} vs {}",
        two.len(),
        one.len()
    );
}
