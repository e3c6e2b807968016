//! The standalone demo page (`--features demo`): one `<mend-connection>` per
//! connection of the proxy's sandbox (`GET /api/v1/demo/connections`), each with a
//! demo session (`GET /api/v1/demo/session?connection=ID`), plus a log of the events
//! the widgets send to their host. Routes (under `/widget/`): `/` all of them,
//! `/c/:id` one alone, `/list` the `<mend-connections>` banner of every connection
//! (links name the base: the router's `A` does not add it). Works behind `trunk serve` (which forwards `/api` and
//! `/sandbox` to the proxy) and served by the proxy itself.

use leptos::prelude::*;
use leptos_router::components::{A, Route, Router, Routes};
use leptos_router::hooks::use_params_map;
use leptos_router::path;
use serde::Deserialize;

/// One connection of the demo data set.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct DemoConnection {
    /// Connection id (101–116).
    pub id: i64,
    /// Its Powens state, for the page's own labels.
    #[serde(default)]
    pub state: Option<String>,
    /// A short title.
    #[serde(default)]
    pub title: String,
    /// What the state means and what to try.
    #[serde(default)]
    pub explanation: String,
}

#[derive(Debug, Deserialize)]
struct Session {
    session: String,
}

async fn connections() -> Result<Vec<DemoConnection>, String> {
    let resp = gloo_net::http::Request::get("/api/v1/demo/connections")
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if !resp.ok() {
        return Err(format!("HTTP {}", resp.status()));
    }
    resp.json().await.map_err(|e| e.to_string())
}

async fn session(id: i64) -> Option<String> {
    let resp = gloo_net::http::Request::get(&format!("/api/v1/demo/session?connection={id}"))
        .send()
        .await
        .ok()?;
    resp.json::<Session>().await.ok().map(|s| s.session)
}

/// The page's settings, shared by every widget on it.
#[derive(Debug, Clone, Copy)]
struct Settings {
    lang: RwSignal<String>,
    theme: RwSignal<String>,
    compact: RwSignal<bool>,
}

/// The page's `?lang=` (so a link, or a screenshot, opens the demo in a language), else
/// English.
fn lang_from_query() -> String {
    web_sys::window()
        .and_then(|w| w.location().search().ok())
        .and_then(|q| web_sys::UrlSearchParams::new_with_str(&q).ok())
        .and_then(|p| p.get("lang"))
        .map(|l| crate::i18n::pick([l.as_str()]).to_owned())
        .unwrap_or_else(|| "en".to_owned())
}

/// The demo page.
#[component]
pub fn Demo() -> impl IntoView {
    let settings = Settings {
        lang: RwSignal::new(lang_from_query()),
        theme: RwSignal::new("auto".to_owned()),
        compact: RwSignal::new(false),
    };
    provide_context(settings);
    let list = LocalResource::new(connections);
    provide_context(list);
    view! {
        <Router base="/widget">
            <main class="demo">
                <h1>"Mend: repair a bank connection in place"</h1>
                <p class="demo__intro">
                    "Every connection below is in another Powens state, served by the proxy's sandbox. "
                    "Each card is one "<code>"<mend-connection>"</code>" element. Decoupled approvals are "
                    "given in the sandbox's "<a href="/sandbox/bank/app" target="_blank">"bank app"</a>"."
                </p>
                <Toolbar/>
                <Routes fallback=|| view! { <p>"Not found. "<A href="/widget/">"All connections"</A></p> }>
                    <Route path=path!("/") view=All/>
                    <Route path=path!("/c/:id") view=One/>
                    <Route path=path!("/list") view=Banner/>
                </Routes>
                <EventLog/>
            </main>
        </Router>
    }
}

#[component]
fn Toolbar() -> impl IntoView {
    let s = expect_context::<Settings>();
    view! {
        <div class="demo__toolbar">
            <label>"Language "
                <select on:change=move |ev| s.lang.set(event_target_value(&ev))>
                    {[("en", "English"), ("fr", "Français"), ("de", "Deutsch"), ("es", "Español"),
                      ("it", "Italiano"), ("nl", "Nederlands"), ("pt", "Português")]
                        .into_iter()
                        .map(|(v, name)| view! {
                            <option value=v selected=s.lang.get_untracked() == v>{name}</option>
                        })
                        .collect_view()}
                </select>
            </label>
            <label>"Theme "
                <select on:change=move |ev| s.theme.set(event_target_value(&ev))>
                    <option value="auto">"auto"</option>
                    <option value="light">"light"</option>
                    <option value="dark">"dark"</option>
                </select>
            </label>
            <label>
                <input type="checkbox" on:change=move |ev| s.compact.set(event_target_checked(&ev))/>
                " compact"
            </label>
        </div>
    }
}

type List = LocalResource<Result<Vec<DemoConnection>, String>>;

#[component]
fn All() -> impl IntoView {
    let list = expect_context::<List>();
    view! {
        // The router's base written out: a link it then follows in the page (the proxy
        // serves no `/widget/list` file to load).
        <p>
            <A href="/widget/list">"The banner for the whole app"</A>" ("<code>"<mend-connections>"</code>
            ") lists the ones that need the user, all in one request."
        </p>
        <Suspense fallback=|| view! { <p>"Loading the sandbox's connections…"</p> }>
            {move || list.get().map(|r| match r {
                Ok(items) => view! {
                    <ul class="demo__list">
                        {items.into_iter().map(|c| view! { <Card c=c/> }).collect_view()}
                    </ul>
                }.into_any(),
                Err(e) => view! { <Unreachable error=e/> }.into_any(),
            })}
        </Suspense>
    }
}

#[component]
fn One() -> impl IntoView {
    let list = expect_context::<List>();
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").and_then(|v| v.parse::<i64>().ok()));
    view! {
        <p><A href="/widget/">"← All connections"</A></p>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || list.get().map(|r| match r {
                Ok(items) => match items.into_iter().find(|c| Some(c.id) == id()) {
                    Some(c) => view! { <ul class="demo__list"><Card c=c/></ul> }.into_any(),
                    None => view! { <p>"No such demo connection."</p> }.into_any(),
                },
                Err(e) => view! { <Unreachable error=e/> }.into_any(),
            })}
        </Suspense>
    }
}

#[component]
fn Unreachable(error: String) -> impl IntoView {
    view! {
        <p role="alert">
            "The proxy's sandbox can't be reached ("{error}"). Start it with "
            <code>"cargo run -p mend-proxy -- serve"</code>" (it listens on 127.0.0.1:8787)."
        </p>
    }
}

/// One demo connection and its widget.
#[component]
fn Card(c: DemoConnection) -> impl IntoView {
    let s = expect_context::<Settings>();
    let id = c.id;
    let session = LocalResource::new(move || session(id));
    // Demo sessions last 15 minutes: when one expires, fetch a fresh one (what a host
    // should do on `mend:session-expired`).
    let handle = window_event_listener_untyped("mend:session-expired", move |ev| {
        let for_me = ev
            .dyn_ref::<web_sys::CustomEvent>()
            .and_then(|c| js_sys::Reflect::get(&c.detail(), &"connectionId".into()).ok())
            .and_then(|v| v.as_f64())
            == Some(id as f64);
        if for_me {
            session.refetch();
        }
    });
    on_cleanup(move || handle.remove());
    // The return address the sandbox allows: this demo's root, on this origin.
    let redirect = web_sys::window()
        .and_then(|w| w.location().origin().ok())
        .map(|o| format!("{o}/widget/"))
        .unwrap_or_default();
    let state = c.state.clone().unwrap_or_else(|| "null".to_owned());
    view! {
        <li class="demo__item" id=format!("c{id}")>
            <h2>{c.title}" "<small><code>{state}</code>" · #"{id}</small></h2>
            <p>{c.explanation}" "<A href=format!("/widget/c/{id}")>"Open alone"</A></p>
            <mend-connection
                connection-id=id.to_string()
                session=move || session.get().flatten()
                redirect-uri=redirect
                lang=move || s.lang.get()
                theme=move || s.theme.get()
                compact=move || s.compact.get().then_some("")
            ></mend-connection>
        </li>
    }
}

/// `<mend-connections>` with a session for every demo connection: the banner an app
/// puts on its dashboard.
#[component]
fn Banner() -> impl IntoView {
    let s = expect_context::<Settings>();
    let session = LocalResource::new(|| async {
        let resp = gloo_net::http::Request::get("/api/v1/demo/session")
            .send()
            .await
            .ok()?;
        resp.json::<Session>().await.ok().map(|s| s.session)
    });
    // As a host should: a fresh session when the list or one of its entries says so.
    let handle = window_event_listener_untyped("mend:session-expired", move |_| session.refetch());
    on_cleanup(move || handle.remove());
    let redirect = web_sys::window()
        .and_then(|w| w.location().origin().ok())
        .map(|o| format!("{o}/widget/"))
        .unwrap_or_default();
    view! {
        <p><A href="/widget/">"← All connections"</A></p>
        <div class="demo__banner">
            <mend-connections
                session=move || session.get().flatten()
                redirect-uri=redirect
                lang=move || s.lang.get()
                theme=move || s.theme.get()
            ></mend-connections>
        </div>
    }
}

/// The events the widgets sent to this page, newest first.
#[component]
fn EventLog() -> impl IntoView {
    let log = RwSignal::new(Vec::<String>::new());
    for name in [
        "mend:state",
        "mend:resolved",
        "mend:redirect",
        "mend:session-expired",
        "mend:error",
    ] {
        let handle = window_event_listener_untyped(name, move |ev| {
            let detail = ev
                .dyn_ref::<web_sys::CustomEvent>()
                .map(|c| c.detail())
                .and_then(|d| js_sys::JSON::stringify(&d).ok())
                .and_then(|s| s.as_string())
                .unwrap_or_default();
            log.update(|l| {
                l.insert(0, format!("{} {detail}", ev.type_()));
                l.truncate(50);
            });
        });
        on_cleanup(move || handle.remove());
    }
    view! {
        <h2>"Events sent to this page"</h2>
        // Scrollable, so reachable by keyboard (tabindex); a log, named, but not read
        // out on every event (aria-live off: the widgets announce their own changes).
        <div class="demo__log" tabindex="0" role="log" aria-live="off" aria-label="Events sent to this page">
            <ol>
                {move || log.get().into_iter().map(|l| view! { <li>{l}</li> }).collect_view()}
            </ol>
        </div>
    }
}

use wasm_bindgen::JsCast;
