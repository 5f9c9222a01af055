use proptest::prelude::*;

use super::*;

fn date(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

#[test]
fn empty_filter_has_no_where() {
    for d in [Dialect::Sqlite, Dialect::Postgres] {
        assert_eq!(LeadFilter::default().to_sql(d, 1), (String::new(), vec![]));
    }
}

#[test]
fn every_field_in_both_dialects() {
    let mut f = LeadFilter {
        stage: Some(Stage::S2),
        status: Some("Verified".into()),
        source: Some("Walk-in".into()),
        telecaller: Some("Arun@X".into()),
        start_date: Some(date("2026-01-01")),
        end_date: Some(date("2026-01-31")),
        unassigned_only: true,
        own_only: Some("me@x".into()),
        ..Default::default()
    };
    f.add_search("ra_j%, +91 98765-43210").unwrap();
    let (sql, params) = f.to_sql(Dialect::Sqlite, 1);
    assert_eq!(
        sql,
        "WHERE (rowid IN (SELECT rowid FROM leads_name_fts WHERE leads_name_fts MATCH ?1) \
         OR phone_number IN (?2)) AND stage = ?3 \
         AND status = ?4 AND source = ?5 AND assigned_telecaller = ?6 COLLATE NOCASE \
         AND import_date >= ?7 AND import_date <= ?8 \
         AND (assigned_telecaller IS NULL OR assigned_telecaller = '') \
         AND assigned_telecaller = ?9 COLLATE NOCASE"
    );
    assert_eq!(
        params,
        vec![
            SqlParam::Text("name : \"ra_j%\"".into()),
            SqlParam::Text("9876543210".into()),
            SqlParam::Text("S2".into()),
            SqlParam::Text("Verified".into()),
            SqlParam::Text("Walk-in".into()),
            SqlParam::Text("Arun@X".into()),
            SqlParam::Date(date("2026-01-01")),
            SqlParam::Date(date("2026-01-31")),
            SqlParam::Text("me@x".into()),
        ]
    );
    let (pg, pg_params) = f.to_sql(Dialect::Postgres, 3);
    assert_eq!(
        pg,
        "WHERE (name ILIKE $3 ESCAPE '\\' OR phone_number IN ($4)) AND stage = $5 \
         AND status = $6 AND source = $7 AND lower(assigned_telecaller) = lower($8) \
         AND import_date >= $9 AND import_date <= $10 \
         AND (assigned_telecaller IS NULL OR assigned_telecaller = '') \
         AND lower(assigned_telecaller) = lower($11)"
    );
    assert_eq!(pg_params[0], SqlParam::Text("%ra\\_j\\%%".into()));
    assert_eq!(pg_params[1..], params[1..], "the same parameters otherwise");
}

#[test]
fn desk_fields() {
    let f = LeadFilter {
        assigned_on: Some(date("2026-03-01")),
        callback_on: Some(date("2026-03-02")),
        callback_before: Some(date("2026-03-03")),
        ..Default::default()
    };
    let (sql, params) = f.to_sql(Dialect::Postgres, 1);
    assert_eq!(
        sql,
        "WHERE assigned_date = $1 AND callback_date = $2 AND callback_date < $3"
    );
    assert_eq!(params.len(), 3);
    let since = "2026-03-01T18:30:00Z".parse().unwrap();
    let pending = LeadFilter {
        not_called_since: Some(since),
        ..f
    };
    let (sql, params) = pending.to_sql(Dialect::Sqlite, 1);
    assert_eq!(
        sql,
        "WHERE assigned_date = ?1 AND callback_date = ?2 AND callback_date < ?3 \
         AND (last_called IS NULL OR last_called < ?4)"
    );
    assert_eq!(params[3], SqlParam::Instant(since));
    assert!(!pending.only_counted_columns());
}

#[test]
fn search_splits_names_and_phones() {
    let mut f = LeadFilter::default();
    f.add_search(" Priya , 09876543210,, 12345 ").unwrap();
    // a partial digit string is a fragment of a phone number, as in the
    // original (COMPAT §2.3), no longer a name
    assert_eq!(f.names, ["Priya"]);
    assert_eq!(f.phone_parts, ["12345"]);
    assert_eq!(f.phones, ["9876543210"]);
}

/// Placeholders in `sql`, in order of appearance.
fn placeholders(sql: &str, sigil: char) -> Vec<usize> {
    let mut out = Vec::new();
    let mut chars = sql.char_indices().peekable();
    while let Some((_, c)) = chars.next() {
        if c == sigil {
            let mut n = String::new();
            while let Some((_, d)) = chars.peek().copied().filter(|(_, d)| d.is_ascii_digit()) {
                n.push(d);
                chars.next();
            }
            if !n.is_empty() {
                out.push(n.parse().unwrap());
            }
        }
    }
    out
}

fn arb_filter() -> impl Strategy<Value = LeadFilter> {
    let text = || proptest::option::of("[a-zA-Z?$%_ ]{0,8}");
    let day = || proptest::option::of((2020i32..2030, 1u32..13, 1u32..29));
    let to_date =
        |d: Option<(i32, u32, u32)>| d.map(|(y, m, dd)| NaiveDate::from_ymd_opt(y, m, dd).unwrap());
    (
        (
            proptest::collection::vec("[a-z?$]{1,6}", 0..4),
            proptest::collection::vec("[6-9][0-9]{9}", 0..4),
            proptest::collection::vec("[0-9]{1,5}", 0..3),
            proptest::option::of(0usize..4),
            text(),
            text(),
            text(),
        ),
        (day(), day(), day(), day(), day(), any::<bool>(), text()),
    )
        .prop_map(
            move |(
                (names, phones, phone_parts, stage, status, source, telecaller),
                (start, end, assigned, cb_on, cb_before, unassigned, own),
            )| LeadFilter {
                names,
                phones,
                phone_parts,
                stage: stage.map(|i| Stage::all()[i]),
                status,
                source,
                telecaller,
                start_date: to_date(start),
                end_date: to_date(end),
                unassigned_only: unassigned,
                own_only: own,
                assigned_on: to_date(assigned),
                callback_on: to_date(cb_on),
                callback_before: to_date(cb_before),
                // an instant when the assigned day is set (proptest's tuples stop at 12)
                not_called_since: to_date(assigned)
                    .and_then(|d| d.and_hms_opt(0, 0, 0))
                    .map(|t| t.and_utc()),
            },
        )
}

proptest! {
    #[test]
    fn placeholders_match_params(f in arb_filter(), first in 1usize..20) {
        for (dialect, sigil) in [(Dialect::Sqlite, '?'), (Dialect::Postgres, '$')] {
            let (sql, params) = f.to_sql(dialect, first);
            let phs = placeholders(&sql, sigil);
            let want: Vec<usize> = (first..first + params.len()).collect();
            prop_assert_eq!(&phs, &want, "{}", sql);
            prop_assert_eq!(sql.is_empty(), params.is_empty() && !f.unassigned_only);
        }
    }
}

#[test]
fn name_fragments_by_length() {
    let mut f = LeadFilter::default();
    f.add_search("kumar,ab,a_\"b").unwrap();
    let (sql, params) = f.to_sql(Dialect::Sqlite, 1);
    assert_eq!(
        sql,
        "WHERE (rowid IN (SELECT rowid FROM leads_name_fts WHERE leads_name_fts MATCH ?1) \
         OR name LIKE ?2)"
    );
    // the trigram phrases share one MATCH (FTS5's OR), the short ones a LIKE each
    assert_eq!(
        params,
        [
            SqlParam::Text("name : \"kumar\" OR name : \"a_\"\"b\"".into()),
            SqlParam::Text("%ab%".into()),
        ]
    );
    let (pg, _) = f.to_sql(Dialect::Postgres, 1);
    assert_eq!(
        pg,
        "WHERE (name ILIKE $1 OR name ILIKE $2 OR name ILIKE $3 ESCAPE '\\')"
    );
    assert!(!f.only_counted_columns());
}

#[test]
fn counted_columns() {
    let f = LeadFilter {
        stage: Some(Stage::S1),
        source: Some("x".into()),
        telecaller: Some("t".into()),
        start_date: Some(date("2026-01-01")),
        unassigned_only: true,
        own_only: Some("me".into()),
        ..Default::default()
    };
    assert!(f.only_counted_columns());
    let desk = LeadFilter {
        callback_before: Some(date("2026-01-01")),
        ..Default::default()
    };
    assert!(!desk.only_counted_columns());
}

#[test]
fn at_most_500_distinct_search_terms() {
    let mut f = LeadFilter::default();
    let terms: Vec<String> = (0..500).map(|i| format!("n{i}")).collect();
    f.add_search(&format!("{},n1,n2", terms.join(","))).unwrap();
    assert_eq!(f.names.len(), 500);
    let mut g = LeadFilter::default();
    let err = g
        .add_search(&format!("{},extra", terms.join(",")))
        .unwrap_err();
    assert_eq!(err.0, 501);
    assert!(g.names.is_empty());
}

#[test]
fn late_pages_are_read_from_the_end() {
    use super::LeadOrder;
    // early pages: plain offsets
    assert_eq!(LeadOrder::window(1000, 1, 50), (false, 50, 0));
    assert_eq!(LeadOrder::window(1000, 10, 50), (false, 50, 450));
    // the last page of 1000 is rows 950..1000: the first 50 from the end
    assert_eq!(LeadOrder::window(1000, 20, 50), (true, 50, 0));
    // a short last page: 1010 rows, page 21 holds rows 1000..1010
    assert_eq!(LeadOrder::window(1010, 21, 50), (true, 10, 0));
    // page 20 of 1010 is rows 950..1000: from the end, skip 10
    assert_eq!(LeadOrder::window(1010, 20, 50), (true, 50, 10));
    // past the end: nothing, read plainly
    assert_eq!(LeadOrder::window(1010, 30, 50), (false, 50, 1450));
    assert_eq!(LeadOrder::window(0, 1, 50), (false, 50, 0));
}

#[test]
fn order_by_flips() {
    use super::{LeadOrder, LeadSortKey};
    let o = LeadOrder {
        key: LeadSortKey::Name,
        descending: false,
    };
    assert_eq!(o.order_by(false), "ORDER BY name ASC NULLS FIRST, id ASC");
    assert_eq!(o.order_by(true), "ORDER BY name DESC NULLS LAST, id DESC");
    let d = LeadOrder {
        key: LeadSortKey::Updated,
        descending: true,
    };
    assert_eq!(
        d.order_by(false),
        "ORDER BY updated_at DESC NULLS LAST, id DESC"
    );
    // the default order is the list's own
    assert_eq!(
        LeadOrder::default().order_by(false),
        super::ORDER_BY.replace("ASC NULLS FIRST, id", "ASC NULLS FIRST, id ASC")
    );
}

#[test]
fn one_indexed_column_for_the_covering_counts() {
    let mut f = LeadFilter {
        source: Some("Website".into()),
        stage: Some(Stage::S2),
        ..Default::default()
    };
    assert!(f.one_indexed_column());
    f.own_only = Some("tc@pulse.example".into());
    assert!(!f.one_indexed_column(), "two columns");
    let mut g = LeadFilter {
        own_only: Some("tc@pulse.example".into()),
        telecaller: Some("tc@pulse.example".into()),
        ..Default::default()
    };
    assert!(g.one_indexed_column(), "the same column twice");
    g.names.push("kumar".into());
    assert!(
        !g.one_indexed_column(),
        "a name search is not counted by an index"
    );
    assert!(!LeadFilter::default().one_indexed_column());
}

#[test]
fn digit_fragments_search_the_phone_number() {
    let mut f = LeadFilter::default();
    f.add_search("kumar, 43210, 98, 9876543210").unwrap();
    assert_eq!(f.names, ["kumar"]);
    assert_eq!(f.phone_parts, ["43210", "98"]);
    assert_eq!(f.phones, ["9876543210"]);
    let (sql, params) = f.to_sql(Dialect::Sqlite, 1);
    assert_eq!(
        sql,
        "WHERE (rowid IN (SELECT rowid FROM leads_name_fts WHERE leads_name_fts MATCH ?1) \
         OR phone_number LIKE ?2 OR phone_number IN (?3))"
    );
    assert_eq!(
        params[..2],
        [
            SqlParam::Text("name : \"kumar\" OR phone_number : \"43210\"".into()),
            SqlParam::Text("%98%".into()),
        ]
    );
    let (sql, _) = f.to_sql(Dialect::Postgres, 1);
    assert_eq!(
        sql,
        "WHERE (name ILIKE $1 OR phone_number LIKE $2 OR phone_number LIKE $3 \
         OR phone_number IN ($4))"
    );
}
