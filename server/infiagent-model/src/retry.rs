//! Retrying a model call: exponential backoff with equal jitter, honouring the
//! server's `Retry-After`.
//!
//! One attempt fails with an [`AttemptError`], which carries the `Retry-After`
//! the server sent along with the [`ModelError`]; [`with_retries`] decides
//! whether and when to try again.

use std::future::Future;
use std::time::{Duration, SystemTime};

use crate::ModelError;

/// The longest `Retry-After` honoured; a server asking for more is not retried
/// ([`ModelError::WaitTooLong`]): its limit will not lift within one run's patience.
pub(crate) const RETRY_AFTER_CAP: Duration = Duration::from_secs(120);

/// How often, and how patiently, a failed call is retried.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt (0: try once).
    pub max_retries: u32,
    /// Backoff before the first retry; it doubles with each retry.
    pub base_delay: Duration,
    /// Longest backoff (a server's `Retry-After` may ask for more, up to 120 s;
    /// past that the call is not retried).
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 4,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// The wait before retry number `retry` (1 for the first retry).
    ///
    /// Equal jitter: half the exponential backoff plus a random part of the other
    /// half. A server's `Retry-After` is a lower bound, capped at 120 s.
    fn delay(&self, retry: u32, retry_after: Option<Duration>) -> Duration {
        let exponential = self
            .base_delay
            .saturating_mul(2_u32.saturating_pow(retry.saturating_sub(1)))
            .min(self.max_delay);
        let half = exponential / 2;
        let backoff = half + half.mul_f64(fastrand::f64());
        match retry_after {
            Some(requested) => requested.min(RETRY_AFTER_CAP).max(backoff),
            None => backoff,
        }
    }
}

/// How one attempt failed.
#[derive(Debug)]
pub(crate) struct AttemptError {
    /// What went wrong.
    pub(crate) error: ModelError,
    /// How long the server asked us to wait, if it said.
    pub(crate) retry_after: Option<Duration>,
}

impl AttemptError {
    /// The same failure with `secret` scrubbed from its text (see [`ModelError::redacted`]).
    pub(crate) fn redacted(self, secret: Option<&str>) -> AttemptError {
        AttemptError {
            error: self.error.redacted(secret),
            retry_after: self.retry_after,
        }
    }
}

impl From<ModelError> for AttemptError {
    fn from(error: ModelError) -> Self {
        AttemptError {
            error,
            retry_after: None,
        }
    }
}

/// Parses a `Retry-After` value: delay seconds or an HTTP date (relative to `now`).
pub(crate) fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let date = parse_http_date(value)?;
    Some(date.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Parses an HTTP date in the IMF-fixdate form servers must send
/// (`Wed, 21 Oct 2015 07:28:00 GMT`).
fn parse_http_date(value: &str) -> Option<SystemTime> {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let [_weekday, day, month, year, time, "GMT"] =
        value.split_whitespace().collect::<Vec<_>>()[..]
    else {
        return None;
    };
    let month = MONTHS.iter().position(|name| *name == month)? + 1;
    humantime::parse_rfc3339(&format!("{year}-{month:02}-{day:0>2}T{time}Z")).ok()
}

/// Runs `attempt` until it succeeds, fails with an error that is not retryable
/// (returned as is), is asked to wait longer than [`RETRY_AFTER_CAP`]
/// ([`ModelError::WaitTooLong`]), or has failed `max_retries + 1` times
/// ([`ModelError::RetriesExhausted`], unless only one attempt was allowed).
pub(crate) async fn with_retries<T, Attempt, AttemptFuture>(
    policy: &RetryPolicy,
    model: &str,
    mut attempt: Attempt,
) -> Result<T, ModelError>
where
    Attempt: FnMut() -> AttemptFuture,
    AttemptFuture: Future<Output = Result<T, AttemptError>>,
{
    let mut attempts = 0;
    loop {
        attempts += 1;
        let failure = match attempt().await {
            Ok(value) => return Ok(value),
            Err(failure) => failure,
        };
        if !failure.error.is_retryable() || policy.max_retries == 0 {
            return Err(failure.error);
        }
        if let Some(requested) = failure.retry_after.filter(|wait| *wait > RETRY_AFTER_CAP) {
            return Err(ModelError::WaitTooLong {
                seconds: requested.as_secs(),
                last: Box::new(failure.error),
            });
        }
        if attempts > policy.max_retries {
            return Err(ModelError::RetriesExhausted {
                attempts,
                last: Box::new(failure.error),
            });
        }
        let delay = policy.delay(attempts, failure.retry_after);
        tracing::warn!(
            model,
            attempt = attempts,
            max_attempts = policy.max_retries + 1,
            delay_ms = delay.as_millis() as u64,
            error = %failure.error,
            "model call failed, retrying"
        );
        tokio::time::sleep(delay).await;
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    #[test]
    fn retry_after_values() {
        let now = humantime::parse_rfc3339("2015-10-21T07:28:00Z").unwrap();
        let check = |value: &str, expected: Option<u64>| {
            assert_eq!(
                parse_retry_after(value, now),
                expected.map(Duration::from_secs),
                "{value:?}"
            );
        };
        check("1", Some(1));
        check(" 120 ", Some(120));
        check("Wed, 21 Oct 2015 07:28:30 GMT", Some(30));
        check("Wed, 21 Oct 2015 07:27:00 GMT", Some(0));
        check("Wed, 21 Oct 2015 07:28:00 UTC", None);
        check("Wed, 21 Foo 2015 07:28:00 GMT", None);
        check("soon", None);
        check("-1", None);
    }

    #[test]
    fn delays_grow_and_stay_capped() {
        let policy = RetryPolicy {
            max_retries: 10,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(1),
        };
        let check = |retry: u32, retry_after: Option<u64>, low_ms: u64, high_ms: u64| {
            let delay = policy.delay(retry, retry_after.map(Duration::from_secs));
            let range = Duration::from_millis(low_ms)..=Duration::from_millis(high_ms);
            assert!(
                range.contains(&delay),
                "retry {retry}: {delay:?} not in {range:?}"
            );
        };
        check(1, None, 50, 100);
        check(3, None, 200, 400);
        check(10, None, 500, 1000);
        check(40, None, 500, 1000);
        check(1, Some(5), 5000, 5000);
        check(1, Some(0), 50, 100);
        check(1, Some(3600), 120_000, 120_000);
    }

    fn quick_policy(max_retries: u32) -> RetryPolicy {
        RetryPolicy {
            max_retries,
            base_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(20),
        }
    }

    async fn run(
        policy: &RetryPolicy,
        errors: fn() -> ModelError,
    ) -> (Result<(), ModelError>, u32) {
        let calls = AtomicU32::new(0);
        let result = with_retries(policy, "m", || async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err::<(), _>(AttemptError::from(errors()))
        })
        .await;
        (result, calls.into_inner())
    }

    #[tokio::test(start_paused = true)]
    async fn retryable_errors_are_retried_then_reported() {
        let (result, calls) = run(&quick_policy(3), || ModelError::http(503, "u", "")).await;
        assert_eq!(calls, 4);
        let Err(ModelError::RetriesExhausted { attempts, last }) = result else {
            panic!("expected RetriesExhausted, got {result:?}");
        };
        assert_eq!(attempts, 4);
        assert!(matches!(*last, ModelError::Http { status: 503, .. }));
    }

    #[tokio::test(start_paused = true)]
    async fn other_errors_return_at_once() {
        let (result, calls) = run(&quick_policy(3), || ModelError::http(400, "u", "")).await;
        assert_eq!(calls, 1);
        assert!(matches!(result, Err(ModelError::Http { status: 400, .. })));

        let (result, calls) = run(&quick_policy(0), || ModelError::http(503, "u", "")).await;
        assert_eq!(calls, 1);
        assert!(matches!(result, Err(ModelError::Http { status: 503, .. })));
    }

    #[tokio::test(start_paused = true)]
    async fn a_wait_past_the_cap_is_not_retried() {
        let calls = AtomicU32::new(0);
        let result = with_retries(&quick_policy(3), "m", || async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err::<(), _>(AttemptError {
                error: ModelError::http(429, "u", "quota used up"),
                retry_after: Some(Duration::from_secs(3600)),
            })
        })
        .await;
        assert_eq!(calls.into_inner(), 1);
        let Err(error @ ModelError::WaitTooLong { seconds: 3600, .. }) = result else {
            panic!("expected WaitTooLong, got {result:?}");
        };
        assert!(error.to_string().contains("quota used up"), "{error}");
    }

    #[tokio::test(start_paused = true)]
    async fn success_after_failures() {
        let calls = AtomicU32::new(0);
        let result = with_retries(&quick_policy(3), "m", || async {
            match calls.fetch_add(1, Ordering::SeqCst) {
                0 => Err(AttemptError::from(ModelError::http(429, "u", ""))),
                _ => Ok("done"),
            }
        })
        .await;
        assert_eq!(result.unwrap(), "done");
        assert_eq!(calls.into_inner(), 2);
    }
}
