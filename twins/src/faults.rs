//! Faults the twins inject on request (`--faults throttle=0.2,error5xx=0.1,drop=0.05`): each request a
//! client sends is, with those probabilities, throttled (AWS `ThrottlingException`, Qlik 429 with
//! `Retry-After`), answered with a 5xx (not applied), or **applied and then its connection dropped before
//! the answer** — the case a client cannot tell from a request that never arrived, which the blocks'
//! recovery must settle. Draws come from one generator seeded with `--faults-seed`, so a failing run
//! replays (given the same order of requests: one flow at `--parallelism 1` whose steps follow one another
//! gives it; two steps ready at once may go in either order).
//!
//! The Qlik twin's own calls to the KMS twin (its checks of a key) are not faulted: they stand for Qlik's
//! calls to AWS inside Qlik, which keyflow never sees.
//!
//! A dropped answer needs the connection: [`Listener`] hands every request a [`Hangup`] of its connection
//! (as axum's connect info), and after a hang-up the connection neither reads nor writes again, so the
//! answer never leaves and the client sees the connection close.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use axum::Router;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::serve::IncomingStream;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

use crate::aws_kms::KmsError;
use crate::qlik_cloud::ApiError;
use crate::sync::lock;

/// The app name of the Qlik twin's KMS client (`app/keyflow-qlik-twin` in its user agent): its calls
/// are never faulted.
pub const PEER_APP_NAME: &str = "keyflow-qlik-twin";

/// How often each fault happens, as probabilities per request (their sum at most 1).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct FaultRates {
    /// Refused as over the rate: not applied, retryable.
    pub throttle: f64,
    /// Answered with a 5xx: not applied, retryable.
    pub error5xx: f64,
    /// Applied, then the connection dropped before the answer.
    pub drop: f64,
}

/// What `--faults` gave that is not a fault list.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`--faults {given}`: {why}; write `throttle=P,error5xx=P,drop=P` with probabilities from 0 to 1 \
     whose sum is at most 1 (`throttle=0.2,error5xx=0.1,drop=0.05`)"
)]
pub struct FaultsError {
    /// What was given.
    pub given: String,
    /// What is wrong with it.
    pub why: String,
}

impl FaultRates {
    /// Reads `throttle=0.2,error5xx=0.1,drop=0.05` (any of the three, in any order; the others 0).
    pub fn parse(given: &str) -> Result<FaultRates, FaultsError> {
        let refuse = |why: String| FaultsError {
            given: given.into(),
            why,
        };
        let mut rates = FaultRates::default();
        for part in given.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let Some((name, value)) = part.split_once('=') else {
                return Err(refuse(format!("`{part}` is not NAME=PROBABILITY")));
            };
            let probability = value
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|p| (0.0..=1.0).contains(p))
                .ok_or_else(|| refuse(format!("`{value}` is not a probability from 0 to 1")))?;
            let slot = match name.trim() {
                "throttle" => &mut rates.throttle,
                "error5xx" => &mut rates.error5xx,
                "drop" => &mut rates.drop,
                other => {
                    return Err(refuse(format!(
                        "`{other}` is not a fault (throttle, error5xx, drop)"
                    )));
                }
            };
            *slot = probability;
        }
        if rates.throttle + rates.error5xx + rates.drop > 1.0 + f64::EPSILON {
            return Err(refuse("the probabilities add up to more than 1".into()));
        }
        Ok(rates)
    }
}

/// The faults injected so far, by kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FaultCounts {
    /// Requests throttled.
    pub throttled: u64,
    /// Requests answered with a 5xx.
    pub errors: u64,
    /// Requests applied whose connection was then dropped.
    pub dropped: u64,
}

impl FaultCounts {
    /// All faults injected.
    pub fn total(&self) -> u64 {
        self.throttled + self.errors + self.dropped
    }
}

/// One fault a request gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    Throttle,
    Error5xx,
    Drop,
}

/// The faults both twins of a sandbox inject: the rates, the one seeded generator, the counts.
#[derive(Debug)]
pub struct Faults {
    rates: FaultRates,
    seed: u64,
    rng: Mutex<fastrand::Rng>,
    counts: Mutex<FaultCounts>,
}

impl Faults {
    /// Faults at `rates`, drawn from a generator seeded with `seed`.
    pub fn new(rates: FaultRates, seed: u64) -> Faults {
        Faults {
            rates,
            seed,
            rng: Mutex::new(fastrand::Rng::with_seed(seed)),
            counts: Mutex::new(FaultCounts::default()),
        }
    }

    /// The seed: what replays this run's faults.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The faults injected so far.
    pub fn counts(&self) -> FaultCounts {
        *lock(&self.counts)
    }

    /// The fault the next request gets, if any; counted.
    fn draw(&self) -> Option<Fault> {
        let roll = lock(&self.rng).f64();
        let FaultRates {
            throttle,
            error5xx,
            drop,
        } = self.rates;
        let fault = if roll < throttle {
            Fault::Throttle
        } else if roll < throttle + error5xx {
            Fault::Error5xx
        } else if roll < throttle + error5xx + drop {
            Fault::Drop
        } else {
            return None;
        };
        let mut counts = lock(&self.counts);
        match fault {
            Fault::Throttle => counts.throttled += 1,
            Fault::Error5xx => counts.errors += 1,
            Fault::Drop => counts.dropped += 1,
        }
        Some(fault)
    }
}

/// Which twin a router serves: how its faults are worded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    /// The AWS KMS twin (AWS JSON 1.1 errors).
    Kms,
    /// The Qlik Cloud twin (Qlik's error envelope).
    Qlik,
}

/// `router` injecting `faults` (none: as it is).
pub fn wrap(router: Router, faults: Option<Arc<Faults>>, service: Service) -> Router {
    match faults {
        Some(faults) => router.layer(middleware::from_fn_with_state((faults, service), inject)),
        None => router,
    }
}

async fn inject(
    State((faults, service)): State<(Arc<Faults>, Service)>,
    request: Request,
    next: Next,
) -> Response {
    if from_peer(&request) {
        return next.run(request).await;
    }
    let hangup = request
        .extensions()
        .get::<ConnectInfo<Hangup>>()
        .map(|info| info.0.clone());
    match faults.draw() {
        None => next.run(request).await,
        Some(Fault::Throttle) => throttled(service),
        Some(Fault::Error5xx) => server_error(service),
        Some(Fault::Drop) => {
            let response = next.run(request).await;
            // Served without the twins' listener (in-process) there is no hang-up: the answer cannot
            // be lost.
            if let Some(hangup) = hangup {
                hangup.now();
            }
            response
        }
    }
}

/// Whether the request is the Qlik twin's own call to the KMS twin.
fn from_peer(request: &Request) -> bool {
    let marker = format!("app/{PEER_APP_NAME}");
    ["x-amz-user-agent", "user-agent"].iter().any(|name| {
        request
            .headers()
            .get(*name)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains(&marker))
    })
}

fn throttled(service: Service) -> Response {
    match service {
        Service::Kms => kms_error(KmsError::new(
            "ThrottlingException",
            "Rate exceeded (a fault the sandbox injected)",
        )),
        Service::Qlik => ApiError::rate_limited(1).into_response(),
    }
}

fn server_error(service: Service) -> Response {
    match service {
        Service::Kms => kms_error(KmsError::internal(
            "an internal error (a fault the sandbox injected)",
        )),
        Service::Qlik => ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable")
            .code("HTTP-503")
            .detail("a fault the sandbox injected")
            .into_response(),
    }
}

fn kms_error(error: KmsError) -> Response {
    let mut response = (error.status, error.body().to_string()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-amz-json-1.1"),
    );
    response
}

/// A connection's hang-up: after [`Hangup::now`] the connection neither reads nor writes, so hyper
/// closes it with the answer unsent. Every request carries its connection's (axum's connect info).
#[derive(Debug, Clone)]
pub struct Hangup {
    cut: Arc<AtomicBool>,
}

impl Hangup {
    fn new() -> Hangup {
        Hangup {
            cut: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Cuts the connection: nothing more goes out.
    pub fn now(&self) {
        self.cut.store(true, Ordering::SeqCst);
    }

    fn is_cut(&self) -> bool {
        self.cut.load(Ordering::SeqCst)
    }
}

impl axum::extract::connect_info::Connected<IncomingStream<'_, Listener>> for Hangup {
    fn connect_info(stream: IncomingStream<'_, Listener>) -> Hangup {
        stream.io().hangup.clone()
    }
}

/// The twins' listener: TCP connections that can be cut ([`Hangup`]).
pub struct Listener(pub TcpListener);

impl axum::serve::Listener for Listener {
    type Io = Connection;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Connection, SocketAddr) {
        let (stream, addr) = axum::serve::Listener::accept(&mut self.0).await;
        (
            Connection {
                stream,
                hangup: Hangup::new(),
            },
            addr,
        )
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.0.local_addr()
    }
}

/// A TCP connection that fails every read and write once hung up.
pub struct Connection {
    stream: TcpStream,
    hangup: Hangup,
}

fn hung_up() -> io::Error {
    io::Error::new(
        io::ErrorKind::ConnectionAborted,
        "the sandbox dropped the connection (an injected fault)",
    )
}

impl AsyncRead for Connection {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.hangup.is_cut() {
            return Poll::Ready(Err(hung_up()));
        }
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Connection {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if self.hangup.is_cut() {
            return Poll::Ready(Err(hung_up()));
        }
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.hangup.is_cut() {
            return Poll::Ready(Err(hung_up()));
        }
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fault_lists_are_read_or_refused_with_the_form() {
        assert_eq!(
            FaultRates::parse("throttle=0.2, error5xx=0.1,drop=0.05"),
            Ok(FaultRates {
                throttle: 0.2,
                error5xx: 0.1,
                drop: 0.05
            })
        );
        assert_eq!(
            FaultRates::parse("drop=1"),
            Ok(FaultRates {
                drop: 1.0,
                ..FaultRates::default()
            })
        );
        for bad in ["drop", "drop=2", "jitter=0.1", "throttle=0.6,drop=0.6"] {
            let error = FaultRates::parse(bad).expect_err(bad).to_string();
            assert!(error.contains("throttle=P,error5xx=P,drop=P"), "{error}");
        }
    }

    #[test]
    fn the_same_seed_draws_the_same_faults() {
        let rates = FaultRates::parse("throttle=0.2,error5xx=0.1,drop=0.1").expect("rates");
        let draws = |seed| {
            let faults = Faults::new(rates, seed);
            (0..200).map(|_| faults.draw()).collect::<Vec<_>>()
        };
        assert_eq!(draws(7), draws(7));
        assert_ne!(draws(7), draws(8));
        let faults = Faults::new(rates, 7);
        for _ in 0..1000 {
            faults.draw();
        }
        let counts = faults.counts();
        // About 200, 100 and 100 of 1000.
        assert!((120..280).contains(&counts.throttled), "{counts:?}");
        assert!((50..150).contains(&counts.errors), "{counts:?}");
        assert!((50..150).contains(&counts.dropped), "{counts:?}");
    }
}
