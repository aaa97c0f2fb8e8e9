//! Moving rows through a batch. A feeder reads the input with the batch's CSV reader
//! (`reader::RowReader`: the csv crate, stray quotes and empty rows told apart) into jobs of
//! `JOB_ROWS` records (and notes repeated ids, which needs the rows in order); screeners
//! read the cells into answers, decide and render whole jobs; the calling thread writes the
//! rendered jobs strictly in input order. With one thread this is a plain loop. With more, the
//! feeder and each screener get a thread of their own, and jobs go to the screeners in turn,
//! so the writer collects them in turn: ordered output with no reordering buffer. The channels are bounded, so a handful of jobs are ever in flight and memory stays
//! flat; a failed write or read drops the channels and every thread ends.

use std::io::{Read, Write};
use std::sync::mpsc;

use super::reader::RowReader;
use super::{BatchError, Columns, Duplicates, Job, Screener, Summary};
use crate::output::Format;
use crate::ruleset::Ruleset;

/// Rows per job: enough to make a job's hand-over cheap, few enough that the jobs in flight
/// stay small (a job of NDJSON output is about half a megabyte).
const JOB_ROWS: usize = 256;

/// Jobs that may wait in each channel, so that a screener held up for a moment (the machine
/// is busy elsewhere) does not stall the others at once.
const IN_FLIGHT: usize = 4;

/// What a batch run needs to know, resolved up front.
#[derive(Debug, Clone, Copy)]
pub struct Plan<'a> {
    pub ruleset: &'a Ruleset,
    pub columns: &'a Columns,
    pub format: Format,
    /// ANSI colour in the table.
    pub color: bool,
    /// The CSV field delimiter.
    pub delimiter: u8,
    /// Screening threads; 1 screens on the calling thread.
    pub threads: usize,
    /// Number cells are written with a decimal comma.
    pub decimal_comma: bool,
    /// How CSV output is written.
    pub csv: crate::output::csv::CsvStyle,
    /// The intake profile compiled against the header, and its id for the records.
    pub profile: Option<&'a crate::profile::Plan>,
    pub profile_id: Option<&'a crate::output::ProfileId>,
}

/// A job's records for the output. A JSON array's records are joined by commas that
/// rendering puts before every record but row 1's; when row 1 was empty (no record), the
/// first record written must lose its comma.
fn records<'j>(format: Format, written: &mut bool, job: &'j Job) -> &'j [u8] {
    let out = &job.out[..];
    if out.is_empty() {
        return out;
    }
    let first = !std::mem::replace(written, true);
    match out.strip_prefix(b",") {
        Some(rest) if first && format == Format::Json => rest,
        _ => out,
    }
}

/// Reads rows into jobs: the one CSV reader of a batch, on its own thread.
pub struct Feeder<'a, R> {
    pub reader: &'a mut RowReader<R>,
    pub duplicates: &'a mut Duplicates,
    /// The id column, whose repeats are checked here (they need the rows in order).
    pub id_column: Option<usize>,
    /// With a profile's `input.rows`: which rows are patients.
    patients: Option<&'a crate::profile::Plan>,
    next_row: u64,
}

impl<'a, R: Read> Feeder<'a, R> {
    /// A feeder of the records after the header (already read from `reader`).
    pub fn new(
        reader: &'a mut RowReader<R>,
        duplicates: &'a mut Duplicates,
        id_column: Option<usize>,
    ) -> Self {
        Feeder {
            reader,
            duplicates,
            id_column,
            patients: None,
            next_row: 1,
        }
    }

    /// Leaves out the rows a profile's `input.rows` says are not patients: they get no record
    /// and no duplicate-id check, and keep their numbers.
    pub fn with_profile(mut self, profile: Option<&'a crate::profile::Plan>) -> Self {
        self.patients = profile.filter(|p| p.rows_column().is_some());
        self
    }

    /// Fills `job` with up to `JOB_ROWS` rows; false when no rows were left.
    fn fill(&mut self, job: &mut Job) -> Result<bool, BatchError> {
        job.first_row = self.next_row;
        job.len = 0;
        job.left_out = 0;
        while job.len < JOB_ROWS {
            if job.records.len() == job.len {
                job.records.push(csv::ByteRecord::new());
                job.duplicates.push(None);
                job.lines.push(0);
                job.malformed.push(None);
                job.numbers.push(0);
            }
            let record = &mut job.records[job.len];
            let info = match self.reader.read_row(record) {
                Ok(Some(info)) => info,
                Ok(None) => break,
                Err(source) => {
                    return Err(BatchError::Read {
                        row: self.next_row,
                        source,
                    })
                }
            };
            job.lines[job.len] = info.line;
            job.malformed[job.len] = info.message();
            if let Some(plan) = self.patients {
                let cell = plan.rows_column().and_then(|c| record.get(c));
                if !plan.is_patient(cell.unwrap_or_default()) {
                    job.left_out += 1;
                    self.next_row += 1;
                    continue;
                }
            }
            job.numbers[job.len] = self.next_row;
            job.duplicates[job.len] = self.id_column.and_then(|column| {
                self.duplicates
                    .check(self.next_row, record.get(column).unwrap_or_default())
            });
            job.len += 1;
            self.next_row += 1;
        }
        Ok(job.len > 0 || job.left_out > 0)
    }

    fn position(&self) -> u64 {
        self.reader.position()
    }
}

/// Screens every record the feeder reads (the header already taken and resolved to
/// `plan.columns`) and writes one rendered record per row to `out`, between the format's
/// head and tail. `progress` hears the input byte position after each job.
pub fn screen<R: Read + Send, W: Write>(
    plan: Plan<'_>,
    mut feeder: Feeder<'_, R>,
    out: &mut W,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Summary, BatchError> {
    let mut screener = Screener::new(&plan);
    let mut edge = Vec::new();
    screener.renderer.head(&mut edge);
    out.write_all(&edge).map_err(BatchError::Write)?;
    let summary = if plan.threads <= 1 {
        let mut summary = Summary::default();
        let mut written = false;
        let mut job = Job::default();
        while feeder.fill(&mut job)? {
            screener.screen_job(&mut job);
            out.write_all(records(plan.format, &mut written, &job))
                .map_err(BatchError::Write)?;
            summary.add(&job.summary);
            progress(feeder.position());
        }
        summary
    } else {
        in_parallel(plan, feeder, out, progress)?
    };
    edge.clear();
    screener.renderer.tail(&mut edge, summary.rows);
    out.write_all(&edge).map_err(BatchError::Write)?;
    Ok(summary)
}

type Message = Result<Job, BatchError>;

fn in_parallel<R: Read + Send, W: Write>(
    plan: Plan<'_>,
    mut feeder: Feeder<'_, R>,
    out: &mut W,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Summary, BatchError> {
    let threads = plan.threads;
    std::thread::scope(|scope| {
        let (free_tx, free_rx) = mpsc::channel::<Job>();
        let mut to_screeners = Vec::with_capacity(threads);
        let mut from_screeners = Vec::with_capacity(threads);
        for _ in 0..threads {
            let (job_tx, job_rx) = mpsc::sync_channel::<Message>(IN_FLIGHT);
            let (done_tx, done_rx) = mpsc::sync_channel::<Message>(IN_FLIGHT);
            scope.spawn(move || {
                let mut screener = Screener::new(&plan);
                for message in job_rx {
                    let message = message.map(|mut job| {
                        screener.screen_job(&mut job);
                        job
                    });
                    if done_tx.send(message).is_err() {
                        break; // the writer has stopped
                    }
                }
            });
            to_screeners.push(job_tx);
            from_screeners.push(done_rx);
        }
        scope.spawn(move || {
            for turn in 0.. {
                let mut job = free_rx.try_recv().unwrap_or_default();
                let message = match feeder.fill(&mut job) {
                    Ok(true) => Ok(job),
                    Ok(false) => break,
                    Err(e) => Err(e),
                };
                let failed = message.is_err();
                if to_screeners[turn % threads].send(message).is_err() || failed {
                    break;
                }
                progress(feeder.position());
            }
            // Dropping the senders tells every screener that no more jobs are coming.
        });
        let mut summary = Summary::default();
        let mut written = false;
        for turn in 0.. {
            match from_screeners[turn % threads].recv() {
                // That screener is gone without job `turn`: the feeder has finished.
                Err(_) => break,
                Ok(Err(e)) => return Err(e),
                Ok(Ok(job)) => {
                    out.write_all(records(plan.format, &mut written, &job))
                        .map_err(BatchError::Write)?;
                    summary.add(&job.summary);
                    let _ = free_tx.send(job);
                }
            }
        }
        Ok(summary)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::command::screen_into;
    use crate::ruleset::builtin;
    use std::io;

    /// Input that fails to read after its rows.
    struct FailsAfter(io::Cursor<Vec<u8>>);

    impl Read for FailsAfter {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            match self.0.read(buf)? {
                0 => Err(io::Error::other("the disk went away")),
                n => Ok(n),
            }
        }
    }

    /// Screens `rows` patients (ids repeating every 300) read from input that then fails,
    /// as `csv` on `threads` threads: the error, and what was written before it.
    fn screen_failing(rows: usize, threads: usize) -> (BatchError, String) {
        let ruleset = builtin().expect("loads");
        let mut input = b"id,age_years\n".to_vec();
        for i in 0..rows {
            input.extend_from_slice(format!("P-{},40\n", i % 300).as_bytes());
        }
        let mut out = Vec::new();
        let failing = FailsAfter(io::Cursor::new(input));
        let error = screen_into(&ruleset, failing, Format::Csv, threads, &mut out)
            .expect_err("the read fails");
        let error = error.downcast::<BatchError>().expect("a batch error");
        (error, String::from_utf8(out).expect("UTF-8"))
    }

    #[test]
    fn a_failed_read_stops_every_thread_count_after_the_same_whole_jobs() {
        let (error, one) = screen_failing(700, 1);
        assert!(
            matches!(error, BatchError::Read { row: 701, .. }),
            "{error:?}"
        );
        let lines: Vec<&str> = one.lines().collect();
        // The header, then the two whole jobs read before the failure; the third is dropped.
        assert_eq!(lines.len(), 1 + 2 * JOB_ROWS);
        assert!(lines[1].starts_with("1,P-0,"), "{}", lines[1]);
        assert!(lines[512].starts_with("512,P-211,"), "{}", lines[512]);
        assert!(
            lines[301].contains(",(id): duplicate id: also on row 1;"),
            "{}",
            lines[301]
        );
        for threads in [2, 3, 5] {
            let (error, many) = screen_failing(700, threads);
            assert!(
                matches!(error, BatchError::Read { row: 701, .. }),
                "{error:?}"
            );
            assert_eq!(many, one, "{threads} threads");
        }
    }
}
