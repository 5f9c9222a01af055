//! Read-ahead: the store's rows are read on their own thread while the
//! caller formats and compresses the previous ones.
//!
//! Why: reading (SQLite's `step` and decoding, or PostgreSQL's row decoding)
//! is ~40% of a CSV export and ~15% of an xlsx one, and it ran on the same
//! thread as the writer, so a CSV export used one core. The reader copies
//! each row's values into a [`Batch`] (one string arena plus fixed-size
//! spans — a few hundred bytes per row, the cost of a `memcpy`) and hands
//! full batches over a bounded channel; the caller sees the same
//! [`LeadRows::for_each`] interface with rows borrowed from the batch.
//!
//! Memory stays flat: at most [`QUEUED_BATCHES`] + 2 batches of
//! [`BATCH_ROWS`] rows exist, recycled between the two threads. A writer
//! that stops (client gone, disk error) drops its receiver and the reader's
//! next hand-over fails, so the reader stops too; a store error ends the
//! reader and is returned after the rows before it.

use std::io;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use chrono::{DateTime, NaiveDate, Utc};

use crate::store::{LeadRow, LeadRows, RowsError};
use crate::store::{N_DATE, N_INSTANT, N_TEXT};

/// Rows per hand-over: large enough that the channel costs nothing per row,
/// small enough that the first rows reach the writer at once.
pub const BATCH_ROWS: usize = 512;
/// Full batches waiting for the writer.
pub const QUEUED_BATCHES: usize = 4;

/// Where one text value lies in [`Batch::text`]; `u32::MAX` start = null.
#[derive(Debug, Clone, Copy)]
struct Span {
    start: u32,
    len: u32,
}

const NULL: Span = Span {
    start: u32::MAX,
    len: 0,
};

#[derive(Debug, Clone, Copy)]
struct RowMeta {
    text: [Span; N_TEXT],
    dates: [Option<NaiveDate>; N_DATE],
    instants: [Option<DateTime<Utc>>; N_INSTANT],
}

/// Owned copies of up to [`BATCH_ROWS`] rows.
#[derive(Debug, Default)]
struct Batch {
    text: String,
    rows: Vec<RowMeta>,
}

impl Batch {
    fn clear(&mut self) {
        self.text.clear();
        self.rows.clear();
    }

    /// Copies `row` in. A single row's text above 4 GiB cannot occur (a
    /// database value is far smaller), but a batch is sent before its arena
    /// could pass `u32::MAX`.
    fn push(&mut self, row: &LeadRow<'_>) {
        let mut text = [NULL; N_TEXT];
        for (span, value) in text.iter_mut().zip(row.text) {
            if let Some(v) = value {
                *span = Span {
                    start: self.text.len() as u32,
                    len: v.len() as u32,
                };
                self.text.push_str(v);
            }
        }
        self.rows.push(RowMeta {
            text,
            dates: row.dates,
            instants: row.instants,
        });
    }

    fn full(&self) -> bool {
        self.rows.len() >= BATCH_ROWS || self.text.len() >= (u32::MAX / 2) as usize
    }

    fn row(&self, meta: &RowMeta) -> LeadRow<'_> {
        let mut text: [Option<&str>; N_TEXT] = [None; N_TEXT];
        for (out, span) in text.iter_mut().zip(meta.text) {
            if span.start != u32::MAX {
                let start = span.start as usize;
                *out = Some(&self.text[start..start + span.len as usize]);
            }
        }
        LeadRow {
            text,
            dates: meta.dates,
            instants: meta.instants,
        }
    }
}

/// [`LeadRows`] that reads `inner` on a second thread (see the module doc).
pub struct ReadAhead<'a> {
    inner: &'a mut dyn LeadRows,
}

impl<'a> ReadAhead<'a> {
    /// Wraps `inner`; nothing is read until [`LeadRows::for_each`].
    pub fn new(inner: &'a mut dyn LeadRows) -> Self {
        Self { inner }
    }
}

fn writer_gone() -> io::Error {
    io::Error::other("the writer stopped")
}

/// The reader thread: fills batches from `inner` and sends them.
fn read_into(
    inner: &mut dyn LeadRows,
    full: SyncSender<Batch>,
    empty: Receiver<Batch>,
) -> Result<u64, RowsError> {
    let mut batch = Batch::default();
    let read = inner.for_each(&mut |row| {
        batch.push(row);
        if batch.full() {
            let next = empty.try_recv().unwrap_or_default();
            full.send(std::mem::replace(&mut batch, next))
                .map_err(|_| writer_gone())?;
        }
        Ok(())
    });
    // The rows read before a store error still reach the writer (its
    // progress then says how far the export got).
    if !batch.rows.is_empty() && full.send(batch).is_err() && read.is_ok() {
        return Err(RowsError::Sink(writer_gone()));
    }
    read
}

impl LeadRows for ReadAhead<'_> {
    fn for_each(
        &mut self,
        f: &mut dyn FnMut(&LeadRow<'_>) -> io::Result<()>,
    ) -> Result<u64, RowsError> {
        let (full_tx, full_rx) = sync_channel::<Batch>(QUEUED_BATCHES);
        let (empty_tx, empty_rx) = sync_channel::<Batch>(QUEUED_BATCHES + 2);
        let inner = &mut *self.inner;
        let lowered = super::priority::lowered();
        std::thread::scope(|s| {
            let reader = std::thread::Builder::new()
                .name("pulse-export-read".into())
                .spawn_scoped(s, move || {
                    super::priority::inherit(lowered);
                    read_into(inner, full_tx, empty_rx)
                })
                .map_err(RowsError::Sink)?;
            let written = write_from(&full_rx, &empty_tx, f);
            // Dropping the receiver wakes a reader blocked on a full channel.
            drop(full_rx);
            let read = reader.join().unwrap_or_else(|_| {
                Err(RowsError::Sink(io::Error::other("export reader panicked")))
            });
            match (written, read) {
                // The writer's own error explains a stop better than the
                // reader's "the writer stopped".
                (Err(e), _) => Err(RowsError::Sink(e)),
                (Ok(_), Err(e)) => Err(e),
                (Ok(w), Ok(_)) => Ok(w),
            }
        })
    }
}

/// The caller's side: hands every row of every batch to `f`, returns the
/// batches for reuse.
fn write_from(
    full: &Receiver<Batch>,
    empty: &SyncSender<Batch>,
    f: &mut dyn FnMut(&LeadRow<'_>) -> io::Result<()>,
) -> io::Result<u64> {
    let mut n = 0u64;
    while let Ok(mut batch) = full.recv() {
        for meta in &batch.rows {
            f(&batch.row(meta))?;
            n += 1;
        }
        batch.clear();
        let _ = empty.try_send(batch);
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::StoreError;

    /// Rows 0..n with text, nulls, dates and instants that depend on the
    /// row number; fails with a store error at `fail_at` if set.
    struct Numbered {
        n: u64,
        fail_at: Option<u64>,
    }

    impl LeadRows for Numbered {
        fn for_each(
            &mut self,
            f: &mut dyn FnMut(&LeadRow<'_>) -> io::Result<()>,
        ) -> Result<u64, RowsError> {
            for i in 0..self.n {
                if Some(i) == self.fail_at {
                    return Err(RowsError::Store(StoreError::Backend("boom".into())));
                }
                let id = format!("id-{i}");
                let long = "é".repeat((i % 7) as usize);
                let mut row = LeadRow::default();
                row.text[0] = Some(&id);
                row.text[3] = Some(&long);
                row.text[24] = i.is_multiple_of(2).then_some("");
                row.dates[1] = NaiveDate::from_num_days_from_ce_opt(738_000 + i as i32);
                row.instants[2] = DateTime::from_timestamp_millis(i as i64 * 1000);
                f(&row).map_err(RowsError::Sink)?;
            }
            Ok(self.n)
        }
    }

    fn expected(i: u64) -> String {
        format!(
            "id-{i}|{}|{:?}|{:?}|{:?}",
            "é".repeat((i % 7) as usize),
            i.is_multiple_of(2).then_some(""),
            NaiveDate::from_num_days_from_ce_opt(738_000 + i as i32),
            DateTime::from_timestamp_millis(i as i64 * 1000)
        )
    }

    fn seen(row: &LeadRow<'_>) -> String {
        assert!(row.text[1].is_none() && row.dates[0].is_none());
        format!(
            "{}|{}|{:?}|{:?}|{:?}",
            row.text[0].unwrap(),
            row.text[3].unwrap(),
            row.text[24],
            row.dates[1],
            row.instants[2]
        )
    }

    #[test]
    fn every_row_arrives_in_order_with_its_values() {
        for n in [
            0,
            1,
            BATCH_ROWS as u64 - 1,
            BATCH_ROWS as u64,
            10 * BATCH_ROWS as u64 + 3,
        ] {
            let mut inner = Numbered { n, fail_at: None };
            let mut got = Vec::new();
            let passed = ReadAhead::new(&mut inner)
                .for_each(&mut |row| {
                    got.push(seen(row));
                    Ok(())
                })
                .unwrap();
            assert_eq!(passed, n);
            assert_eq!(got, (0..n).map(expected).collect::<Vec<_>>());
        }
    }

    #[test]
    fn a_store_error_arrives_after_the_rows_before_it() {
        let mut inner = Numbered {
            n: 5000,
            fail_at: Some(2000),
        };
        let mut rows = 0u64;
        let err = ReadAhead::new(&mut inner)
            .for_each(&mut |_| {
                rows += 1;
                Ok(())
            })
            .unwrap_err();
        assert!(matches!(err, RowsError::Store(_)), "{err:?}");
        assert_eq!(rows, 2000);
    }

    #[test]
    fn a_writer_error_stops_the_reader_and_is_the_one_returned() {
        let mut inner = Numbered {
            n: 1_000_000,
            fail_at: None,
        };
        let mut rows = 0u64;
        let err = ReadAhead::new(&mut inner)
            .for_each(&mut |_| {
                rows += 1;
                if rows == 700 {
                    return Err(io::Error::other("client gone"));
                }
                Ok(())
            })
            .unwrap_err();
        match err {
            RowsError::Sink(e) => assert_eq!(e.to_string(), "client gone"),
            other => panic!("{other:?}"),
        }
        assert_eq!(rows, 700);
    }
}
