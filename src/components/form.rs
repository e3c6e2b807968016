//! The form panel: what the bank asks for (`additionalInformationNeeded`), or the
//! credentials again or a new password (`wrongpass`, `passwordExpired`, with Agent
//! status), built from Powens' `fields`.
//!
//! Typing reaches the controller through `on_input` and changes nothing on screen; a
//! field's problem (`aria-invalid`, its error line, `aria-describedby`) follows that
//! field's own memo; the submit button follows the busy flag. So the input the user is
//! in is never rebuilt and keeps its focus, caret and value. `novalidate`: the widget
//! checks (with the browser's `RegExp`) and speaks its own language.

use super::parts::{Actions, PanelHead, SourceList};
use crate::form::InputKind;
use crate::i18n::Texts;
use crate::panel::{Button, Head, Source};
use leptos::either::Either;
use leptos::prelude::*;
use mend_model::ConnectorField;
use mend_model::api::{Action, FieldProblem};
use std::collections::BTreeMap;

/// What to say about a refused value.
pub fn problem_text(p: FieldProblem, t: &'static Texts) -> &'static str {
    match p {
        FieldProblem::Required => t.field_required,
        FieldProblem::Pattern => t.field_pattern,
        FieldProblem::NotInList => t.field_not_in_list,
        FieldProblem::TooLong => t.field_too_long,
        FieldProblem::Unknown => t.field_unknown,
    }
}

/// Fill in what the bank asks.
#[component]
pub fn FormPanel(
    /// Heading and explanation.
    head: Head,
    /// The fields, in Powens' order.
    fields: Vec<ConnectorField>,
    /// `passwordExpired`: passwords are new ones.
    new_password: bool,
    /// The other ways (Reconnect), below the form.
    buttons: Vec<Button>,
    /// Sources that differ.
    sources: Vec<Source>,
    /// The copy.
    t: &'static Texts,
    /// The values typed so far (read once, to fill the fields when a panel is rebuilt).
    values: BTreeMap<String, String>,
    /// A field's problem, by its name (the widget's own checks, else the proxy's).
    problem: impl Fn(&str) -> Option<FieldProblem> + Copy + Send + Sync + 'static,
    /// The action in flight.
    busy: Memo<Option<Action>>,
    /// Called with `(name, value)` as the user types or picks.
    on_input: Callback<(String, String)>,
    /// Called with [`Action::Submit`] when the form is sent (button, or Enter in a
    /// field), and with the action of another button pressed.
    on_action: Callback<Action>,
) -> impl IntoView {
    let tone = head.tone;
    let sending = move || busy.get() == Some(Action::Submit);
    let rows = fields
        .into_iter()
        .enumerate()
        .map(|(index, field)| {
            let name = field.name.clone();
            let problem = Memo::new(move |_| problem(&name));
            let value = values.get(&field.name).cloned().unwrap_or_default();
            view! { <Field field index new_password value problem t on_input/> }
        })
        .collect_view();
    view! {
        <article class="mend__panel" part="panel" data-panel="form" data-tone=tone>
            <PanelHead head/>
            <form class="mend__form" part="form" novalidate=true
                on:submit=move |ev| {
                    ev.prevent_default();
                    on_action.run(Action::Submit);
                }>
                {rows}
                <div class="mend__actions" part="actions">
                    <button type="submit" class="mend__btn mend__btn--primary" part="button"
                        data-action=Action::Submit.as_str()
                        aria-disabled=move || busy.get().map(|_| "true")
                        aria-busy=move || sending().then_some("true")>
                        {move || if sending() { t.sending } else { t.send }}
                    </button>
                </div>
            </form>
            <Actions buttons busy on_action/>
            <SourceList sources t/>
        </article>
    }
}

/// One field: its label (Powens' `label`, "(optional)" unless required), its control
/// (input or select, see [`InputKind`]), its help (`description`) and its error.
#[component]
pub fn Field(
    /// The field.
    field: ConnectorField,
    /// Its position, for its `id` (`mend-f<index>`).
    index: usize,
    /// Passwords are new ones.
    new_password: bool,
    /// The value to start with.
    value: String,
    /// Its problem, if any.
    problem: Memo<Option<FieldProblem>>,
    /// The copy.
    t: &'static Texts,
    /// Called with `(name, value)` on every input.
    on_input: Callback<(String, String)>,
) -> impl IntoView {
    let kind = InputKind::of(&field);
    let id = format!("mend-f{index}");
    let help_id = format!("{id}-help");
    let error_id = format!("{id}-err");
    let help = field.description.clone().filter(|d| !d.trim().is_empty());
    // Both ids always: the error line is always there (empty while the value is fine),
    // so the description is static and only the line's text follows the problem.
    let described = match &help {
        Some(_) => format!("{help_id} {error_id}"),
        None => error_id.clone(),
    };
    let invalid = move || problem.get().map(|_| "true");
    let name = field.name.clone();
    let input = move |ev: leptos::ev::Event| on_input.run((name.clone(), event_target_value(&ev)));
    let required = field.required.then_some("true");
    // `Either`, not `into_any`: a static choice needs no type erasure.
    let control = if kind == InputKind::Select {
        let options = field
            .values
            .clone()
            .unwrap_or_default()
            .into_iter()
            .map(|o| {
                let selected = o.value == value;
                let shown = if o.label.trim().is_empty() {
                    o.value.clone()
                } else {
                    o.label
                };
                view! { <option value=o.value selected=selected>{shown}</option> }
            })
            .collect_view();
        Either::Left(view! {
            <select class="mend__input" part="input" id=id.clone() name=field.name.clone()
                aria-required=required aria-invalid=invalid aria-describedby=described on:input=input>
                <option value="">{t.choose}</option>
                {options}
            </select>
        })
    } else {
        Either::Right(view! {
            <input class="mend__input" part="input" id=id.clone() name=field.name.clone()
                type=kind.html_type().unwrap_or("text") inputmode=kind.input_mode()
                autocomplete=kind.autocomplete(new_password) spellcheck="false" autocapitalize="off"
                value=value aria-required=required aria-invalid=invalid aria-describedby=described
                on:input=input/>
        })
    };
    let optional =
        (!field.required).then(|| view! { " "<span class="mend__optional">{t.optional}</span> });
    view! {
        <div class="mend__field" part="field" data-type=field.kind.as_str().to_owned()>
            <label class="mend__label" part="label" for=id>{field.display_label().to_owned()}{optional}</label>
            {control}
            {help.map(|h| view! { <p class="mend__help" part="help" id=help_id>{h}</p> })}
            <p class="mend__error" part="error" id=error_id role="alert">
                {move || problem.get().map_or("", |p| problem_text(p, t))}
            </p>
        </div>
    }
}
