//! Moving rows through a batch. A feeder cuts the input into jobs of `JOB_ROWS` whole records
//! with the quick scanner (and notes repeated ids, which needs the rows in order); screeners
//! parse, decide and render whole jobs, each with a csv reader of its own; the calling thread
//! writes the rendered jobs strictly in input order. With one thread this is a plain loop. With
//! more, the feeder and each screener get a thread of their own — so the CSV parsing, the
//! costliest part after deciding, is spread over the screeners too — and jobs go to the
//! screeners in turn, so the writer collects them in turn: ordered output with no reordering
//! buffer. The channels are bounded, so a handful of jobs are ever in flight and memory stays
//! flat; a failed write or read drops the channels and every thread ends.

use std::io::{Read, Write};
use std::sync::mpsc;

use super::scan::{self, Splitter};
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
    /// Name every empty row in the summary, not only the first ones.
    pub verbose: bool,
    /// Number cells are written with a decimal comma.
    pub decimal_comma: bool,
    /// How CSV output is written.
    pub csv: crate::output::csv::CsvStyle,
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

/// Cuts rows into jobs.
struct Feeder<'a, R> {
    split: &'a mut Splitter<R>,
    duplicates: &'a mut Duplicates,
    next_row: u64,
    /// The line the next byte is on.
    line: u64,
}

impl<R: Read> Feeder<'_, R> {
    /// Fills `job` with up to `JOB_ROWS` rows; false when no rows were left.
    fn fill(&mut self, job: &mut Job) -> Result<bool, BatchError> {
        job.first_row = self.next_row;
        job.first_line = self.line;
        job.run.clear();
        job.len = 0;
        job.guard = false;
        while job.len < JOB_ROWS {
            let record = match self.split.next_record() {
                Ok(Some(record)) => record,
                Ok(None) => break,
                Err(source) => {
                    return Err(BatchError::Read {
                        row: self.next_row,
                        source,
                    })
                }
            };
            job.guard |= scan::append_to_run(&mut job.run, record.bytes);
            let duplicate = self.duplicates.check(self.next_row, record.value);
            match job.duplicates.get_mut(job.len) {
                Some(slot) => *slot = duplicate,
                None => job.duplicates.push(duplicate),
            }
            job.len += 1;
            self.next_row += 1;
        }
        self.line += scan::newlines(&job.run) - u64::from(job.guard);
        Ok(job.len > 0)
    }

    fn position(&self) -> u64 {
        self.split.offset()
    }
}

/// Screens every record left in `split` (the header already taken and resolved to
/// `plan.columns`, the splitter finding the id column) and writes one rendered record per row
/// to `out`, between the format's head and tail. `first_line` is the line the first row's
/// bytes start on. `progress` hears the input byte position after each job.
pub fn screen<R: Read + Send, W: Write>(
    plan: Plan<'_>,
    split: &mut Splitter<R>,
    first_line: u64,
    duplicates: &mut Duplicates,
    out: &mut W,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Summary, BatchError> {
    let mut feeder = Feeder {
        split,
        duplicates,
        next_row: 1,
        line: first_line,
    };
    let mut screener = Screener::new(&plan);
    let mut edge = Vec::new();
    screener.renderer.head(&mut edge);
    out.write_all(&edge).map_err(BatchError::Write)?;
    let summary = if plan.threads <= 1 {
        let mut summary = Summary::default();
        let mut written = false;
        let mut job = Job::default();
        while feeder.fill(&mut job)? {
            screener.screen_job(&mut job)?;
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
                    let message = message.and_then(|mut job| {
                        screener.screen_job(&mut job)?;
                        Ok(job)
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
