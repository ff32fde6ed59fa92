//! The session middleware and the handlers' [`Session`].
//!
//! Before the handler: the cookie is read (`cookies`), the row loaded (one indexed read, kept
//! open for the page's own first read: `db::RequestReads`). After it, by what the handler did:
//!
//! | the session was | with a row | anonymous (the state in the cookie) or new |
//! |---|---|---|
//! | unchanged | nothing is written | nothing is written |
//! | changed | its row is updated (the cookie stays) | a light state: the cookie, if it differs; else a new row and its id |
//! | renewed (log-in) | its row is deleted, a new one made | as changed |
//! | purged (log-out) | its row is deleted, the cookie removed | the cookie removed |

use super::cookies::{Incoming, Read, SessionCookies};
use super::{DbSessionStore, State, keys};
use crate::db::DbError;
use crate::routes::errors::{PageError, render_failures};
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use actix_web::http::header::{HeaderValue, SET_COOKIE};
use actix_web::{Error, FromRequest, HttpMessage, HttpRequest, ResponseError};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::any::Any;
use std::cell::RefCell;
use std::future::{Future, Ready, ready};
use std::pin::Pin;
use std::rc::Rc;

/// What a request did to its session.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SessionStatus {
    Changed,
    Purged,
    Renewed,
    #[default]
    Unchanged,
}

#[derive(Default)]
struct Inner {
    state: State,
    status: SessionStatus,
}

/// The request's session: values are kept as JSON texts under [`keys`].
#[derive(Clone, Default)]
pub struct Session(Rc<RefCell<Inner>>);

impl Session {
    /// The value under `key`; an error if it is not a `T`.
    pub fn get<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, serde_json::Error> {
        match self.0.borrow().state.get(key) {
            Some(json) => serde_json::from_str(json).map(Some),
            None => Ok(None),
        }
    }

    /// Keeps `value` under `key` (nothing, once the session is purged).
    pub fn insert<T: Serialize>(&self, key: &str, value: T) -> Result<(), serde_json::Error> {
        let mut inner = self.0.borrow_mut();
        if inner.status != SessionStatus::Purged {
            let json = serde_json::to_string(&value)?;
            inner.changed();
            inner.state.insert(key, &json);
        }
        Ok(())
    }

    /// Takes the value under `key` out; its JSON text.
    pub fn remove(&self, key: &str) -> Option<String> {
        let mut inner = self.0.borrow_mut();
        if inner.status == SessionStatus::Purged {
            return None;
        }
        inner.changed();
        inner.state.remove(key)
    }

    /// Ends the session: its row is deleted and its cookie removed.
    pub fn purge(&self) {
        let mut inner = self.0.borrow_mut();
        inner.status = SessionStatus::Purged;
        inner.state.clear();
    }

    /// The same state under a new id (against session fixation, at log-in).
    pub fn renew(&self) {
        let mut inner = self.0.borrow_mut();
        if inner.status != SessionStatus::Purged {
            inner.status = SessionStatus::Renewed;
        }
    }

    pub fn status(&self) -> SessionStatus {
        self.0.borrow().status
    }

    fn new(state: State) -> Self {
        Self(Rc::new(RefCell::new(Inner {
            state,
            status: SessionStatus::Unchanged,
        })))
    }

    fn take(&self) -> (SessionStatus, State) {
        let mut inner = self.0.borrow_mut();
        (inner.status, std::mem::take(&mut inner.state))
    }
}

impl Inner {
    fn changed(&mut self) {
        if self.status != SessionStatus::Renewed {
            self.status = SessionStatus::Changed;
        }
    }
}

/// The session of a request (an empty one outside the middleware).
pub trait SessionExt {
    fn get_session(&self) -> Session;
}

impl SessionExt for HttpRequest {
    fn get_session(&self) -> Session {
        if let Some(session) = self.extensions().get::<Session>() {
            return session.clone();
        }
        let session = Session::default();
        self.extensions_mut().insert(session.clone());
        session
    }
}

impl FromRequest for Session {
    type Error = Error;
    type Future = Ready<Result<Self, Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(req.get_session()))
    }
}

/// A page's first read, made right after its session's row on the same connection: on
/// PostgreSQL each read is handed to a blocking thread (two thread wake-ups and a pool
/// checkout), so a page that reads once more than its session pays that once, not twice. Its
/// result reaches the handler as [`Prefetched`]; nothing in it is checked yet (who may see
/// what is the handler's to decide, as for its own read).
pub type Prefetch =
    Box<dyn FnOnce(&mut crate::db::DbConnection) -> Result<Box<dyn Any + Send>, DbError> + Send>;

/// What a [`Prefetch`] read, in the request's extensions until its handler takes it.
pub struct Prefetched(Box<dyn Any + Send>);

impl Prefetched {
    pub(super) fn new(value: Box<dyn Any + Send>) -> Self {
        Self(value)
    }

    /// Takes the request's prefetched read out, if there is one.
    pub fn take(req: &HttpRequest) -> Option<Box<dyn Any + Send>> {
        req.extensions_mut().remove::<Prefetched>().map(|p| p.0)
    }
}

/// Which requests get a [`Prefetch`], and what it reads.
type Prefetcher = Box<dyn Fn(&ServiceRequest) -> Option<Prefetch>>;

/// The middleware (see the module's table).
pub struct SessionMiddleware {
    shared: Rc<Shared>,
}

struct Shared {
    store: DbSessionStore,
    cookies: SessionCookies,
    prefetchers: Vec<Prefetcher>,
}

impl SessionMiddleware {
    pub fn new(store: DbSessionStore, cookies: SessionCookies) -> Self {
        Self {
            shared: Rc::new(Shared {
                store,
                cookies,
                prefetchers: Vec::new(),
            }),
        }
    }

    /// Adds a [`Prefetch`] for the requests `prefetcher` answers `Some` for.
    pub fn prefetch(
        mut self,
        prefetcher: impl Fn(&ServiceRequest) -> Option<Prefetch> + 'static,
    ) -> Self {
        if let Some(shared) = Rc::get_mut(&mut self.shared) {
            shared.prefetchers.push(Box::new(prefetcher));
        }
        self
    }
}

impl<S, B> Transform<S, ServiceRequest> for SessionMiddleware
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<BoxBody>;
    type Error = Error;
    type Transform = SessionService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(SessionService {
            service: Rc::new(service),
            shared: self.shared.clone(),
        }))
    }
}

pub struct SessionService<S> {
    service: Rc<S>,
    shared: Rc<Shared>,
}

impl<S, B> Service<ServiceRequest> for SessionService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<BoxBody>;
    type Error = Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Error>>>>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let (service, shared) = (self.service.clone(), self.shared.clone());
        let mut read = shared.cookies.read(req.headers());
        Box::pin(async move {
            let (id, state) = match std::mem::replace(&mut read.incoming, Incoming::Nothing) {
                Incoming::Nothing => (None, State::new()),
                Incoming::Anonymous(state) => (None, state),
                Incoming::Id(id) => {
                    let prefetch = shared.prefetchers.iter().find_map(|p| p(&req));
                    match Box::pin(shared.store.load_then(&id, prefetch)).await {
                        Ok((state, prefetched)) => {
                            if let Some(prefetched) = prefetched {
                                req.extensions_mut().insert(prefetched);
                            }
                            match state {
                                Some(state) => (Some(id), state),
                                None => (None, State::new()),
                            }
                        }
                        Err(e) => {
                            // The page of a failure, in the default language, and nothing written.
                            req.extensions_mut().insert(Session::default());
                            let failure = PageError::internal(format!("loading a session: {e}"));
                            let response = req.into_response(failure.error_response());
                            return Ok(Box::pin(render_failures(response)).await);
                        }
                    }
                }
            };
            let session = Session::new(state);
            req.extensions_mut().insert(session.clone());
            let mut response = service.call(req).await?.map_into_boxed_body();
            let (status, state) = session.take();
            if status == SessionStatus::Unchanged {
                return Ok(response);
            }
            match Box::pin(shared.finish(id.as_deref(), &read, status, state)).await {
                Ok(cookies) => {
                    let headers = response.response_mut().headers_mut();
                    for cookie in cookies {
                        headers.append(SET_COOKIE, cookie);
                    }
                    Ok(response)
                }
                Err(e) => {
                    // What the page said did not happen: a failure's page instead.
                    let failure = PageError::internal(format!("keeping a session: {e}"));
                    let (req, _) = response.into_parts();
                    let response = ServiceResponse::new(req, failure.error_response());
                    Ok(Box::pin(render_failures(response)).await)
                }
            }
        })
    }
}

/// At most two `Set-Cookie`s: the new cookie, and the old-form one's removal.
type Cookies = Vec<HeaderValue>;

impl Shared {
    /// Keeps what the request did to the session; answers the cookies to set.
    async fn finish(
        &self,
        id: Option<&str>,
        read: &Read,
        status: SessionStatus,
        state: State,
    ) -> Result<Cookies, DbError> {
        match (status, id) {
            (SessionStatus::Unchanged, _) => Ok(Cookies::new()),
            (SessionStatus::Changed, Some(id)) => {
                if self.store.update(id, &state).await? {
                    return Ok(Cookies::new());
                }
                // Ended while this request ran: never brought back. The browser gets an
                // anonymous session with only its language.
                let fresh: State = state.iter().filter(|(k, _)| *k == keys::LANG).collect();
                self.issue(read, &fresh).await
            }
            (SessionStatus::Purged, id) => {
                if let Some(id) = id {
                    self.store.delete(id).await?;
                }
                let mut cookies = Cookies::new();
                if read.current.is_some() {
                    cookies.push(self.cookies.remove(false));
                }
                if read.legacy {
                    cookies.push(self.cookies.remove(true));
                }
                Ok(cookies)
            }
            (SessionStatus::Renewed, Some(id)) => {
                self.store.delete(id).await?;
                self.issue(read, &state).await
            }
            (SessionStatus::Changed | SessionStatus::Renewed, None) => {
                self.issue(read, &state).await
            }
        }
    }

    /// A cookie for `state` as a session of its own: in the cookie if it is light, else in a
    /// new row. An old-form cookie that came is removed.
    async fn issue(&self, read: &Read, state: &State) -> Result<Cookies, DbError> {
        let mut cookies = Cookies::new();
        if state.is_empty() {
            if read.current.is_some() {
                cookies.push(self.cookies.remove(false));
            }
        } else {
            let value = match self.cookies.anonymous_value(state) {
                Some(value) => value,
                None => self.store.save(state).await?,
            };
            if read.current.as_deref() != Some(value.as_str())
                && let Some(cookie) = self.cookies.set(&value)
            {
                cookies.push(cookie);
            }
        }
        if read.legacy {
            cookies.push(self.cookies.remove(true));
        }
        Ok(cookies)
    }
}
