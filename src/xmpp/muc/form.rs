//! XEP-0004 data forms as a plain model (no UI types), and the room configuration
//! requests of XEP-0045 §10.1 that carry them: ask for the form, submit it, cancel.
//! Every field type is kept, so whatever the service offers can be shown and sent back.

use super::{AttrExt, NS_MUC_OWNER};
use xmpp_parsers::minidom::Element;
use xmpp_parsers::ns;

/// The `FORM_TYPE` of room configuration forms.
pub const ROOMCONFIG: &str = "http://jabber.org/protocol/muc#roomconfig";

/// A field's type (XEP-0004 §3.3). Unknown types are treated as text-single.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    Boolean,
    Fixed,
    Hidden,
    JidMulti,
    JidSingle,
    ListMulti,
    ListSingle,
    TextMulti,
    TextPrivate,
    TextSingle,
}

impl FieldKind {
    fn parse(s: Option<&str>) -> FieldKind {
        match s.unwrap_or("text-single") {
            "boolean" => FieldKind::Boolean,
            "fixed" => FieldKind::Fixed,
            "hidden" => FieldKind::Hidden,
            "jid-multi" => FieldKind::JidMulti,
            "jid-single" => FieldKind::JidSingle,
            "list-multi" => FieldKind::ListMulti,
            "list-single" => FieldKind::ListSingle,
            "text-multi" => FieldKind::TextMulti,
            "text-private" => FieldKind::TextPrivate,
            _ => FieldKind::TextSingle,
        }
    }

    /// Values on several lines (text-multi, jid-multi).
    pub fn multiline(self) -> bool {
        matches!(self, FieldKind::TextMulti | FieldKind::JidMulti)
    }
}

/// One choice of a list field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldOption {
    pub label: String,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// Empty only for `fixed` fields (which are never sent back).
    pub var: String,
    pub kind: FieldKind,
    pub label: Option<String>,
    pub desc: Option<String>,
    pub required: bool,
    pub values: Vec<String>,
    pub options: Vec<FieldOption>,
}

impl Field {
    /// What to show: the label, else the variable name.
    pub fn title(&self) -> &str {
        self.label.as_deref().unwrap_or(&self.var)
    }

    /// A boolean field's value ("1"/"true" are true).
    pub fn is_true(&self) -> bool {
        matches!(
            self.values.first().map(String::as_str),
            Some("1") | Some("true")
        )
    }

    pub fn first(&self) -> &str {
        self.values.first().map(String::as_str).unwrap_or("")
    }

    /// Sets the values of a multi-line field from text, one value a line.
    pub fn set_lines(&mut self, text: &str) {
        self.values = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect();
    }

    pub fn set_single(&mut self, value: &str) {
        self.values = if value.is_empty() && self.kind != FieldKind::TextSingle {
            Vec::new()
        } else {
            vec![value.to_owned()]
        };
    }

    pub fn set_bool(&mut self, on: bool) {
        self.values = vec![if on { "1" } else { "0" }.to_owned()];
    }

    /// Adds or removes one choice of a list-multi field.
    pub fn toggle(&mut self, value: &str, on: bool) {
        self.values.retain(|v| v != value);
        if on {
            self.values.push(value.to_owned());
        }
    }
}

/// A data form, as the service sent it, with the user's edits in the values.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DataForm {
    pub title: Option<String>,
    pub instructions: Vec<String>,
    pub fields: Vec<Field>,
}

fn child_text(el: &Element, name: &str) -> Option<String> {
    el.get_child(name, ns::DATA_FORMS)
        .map(|c| c.text())
        .filter(|t| !t.trim().is_empty())
}

impl DataForm {
    /// Parses an `<x xmlns='jabber:x:data'/>` element.
    pub fn parse(x: &Element) -> Option<DataForm> {
        if !x.is("x", ns::DATA_FORMS) {
            return None;
        }
        let mut form = DataForm {
            title: child_text(x, "title"),
            ..DataForm::default()
        };
        for c in x.children() {
            if c.is("instructions", ns::DATA_FORMS) && !c.text().trim().is_empty() {
                form.instructions.push(c.text());
            }
            if !c.is("field", ns::DATA_FORMS) {
                continue;
            }
            let kind = FieldKind::parse(c.attr("type"));
            let var = c.attr("var").unwrap_or_default().to_owned();
            if var.is_empty() && kind != FieldKind::Fixed {
                continue;
            }
            let options = c
                .children()
                .filter(|o| o.is("option", ns::DATA_FORMS))
                .filter_map(|o| {
                    let value = child_text(o, "value")?;
                    Some(FieldOption {
                        label: o.attr("label").unwrap_or(&value).to_owned(),
                        value,
                    })
                })
                .collect();
            form.fields.push(Field {
                var,
                kind,
                label: c.attr("label").map(str::to_owned),
                desc: child_text(c, "desc"),
                required: c.get_child("required", ns::DATA_FORMS).is_some(),
                values: c
                    .children()
                    .filter(|v| v.is("value", ns::DATA_FORMS))
                    .map(|v| v.text())
                    .collect(),
                options,
            });
        }
        Some(form)
    }

    /// The form inside a muc#owner query (the answer to [`config_request`]).
    pub fn from_owner_query(query: &Element) -> Option<DataForm> {
        if !query.is("query", NS_MUC_OWNER) {
            return None;
        }
        query
            .get_child("x", ns::DATA_FORMS)
            .and_then(DataForm::parse)
    }

    pub fn field(&self, var: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.var == var)
    }

    pub fn field_mut(&mut self, var: &str) -> Option<&mut Field> {
        self.fields.iter_mut().find(|f| f.var == var)
    }

    /// The `FORM_TYPE`, when there is one.
    pub fn form_type(&self) -> Option<&str> {
        self.field("FORM_TYPE").map(Field::first)
    }

    /// Fields the user sees (not hidden).
    pub fn visible(&self) -> impl Iterator<Item = (usize, &Field)> {
        self.fields
            .iter()
            .enumerate()
            .filter(|(_, f)| f.kind != FieldKind::Hidden)
    }

    /// Required fields left empty, by title.
    pub fn missing(&self) -> Vec<String> {
        self.fields
            .iter()
            .filter(|f| f.required && f.kind != FieldKind::Fixed && f.kind != FieldKind::Hidden)
            .filter(|f| f.values.iter().all(|v| v.trim().is_empty()))
            .map(|f| f.title().to_owned())
            .collect()
    }

    /// `<x type='submit'/>` with every field except `fixed` ones, hidden ones unchanged.
    pub fn submit(&self) -> Element {
        let mut x = Element::builder("x", ns::DATA_FORMS).a("type", "submit");
        for f in &self.fields {
            if f.kind == FieldKind::Fixed || f.var.is_empty() {
                continue;
            }
            let mut field = Element::builder("field", ns::DATA_FORMS).a("var", &f.var);
            for v in &f.values {
                field = field.append(
                    Element::builder("value", ns::DATA_FORMS)
                        .append(v.as_str())
                        .build(),
                );
            }
            x = x.append(field.build());
        }
        x.build()
    }
}

/// `<query xmlns='…muc#owner'/>`: an owner asks for the configuration form.
pub fn config_request() -> Element {
    Element::builder("query", NS_MUC_OWNER).build()
}

/// The filled-in form, to be sent as an IQ set.
pub fn config_submit(form: &DataForm) -> Element {
    Element::builder("query", NS_MUC_OWNER)
        .append(form.submit())
        .build()
}

/// Cancelling: a new room stays locked and is destroyed; an open one stays as it is.
pub fn config_cancel() -> Element {
    Element::builder("query", NS_MUC_OWNER)
        .append(
            Element::builder("x", ns::DATA_FORMS)
                .a("type", "cancel")
                .build(),
        )
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROSODY_FORM: &str = "<query xmlns='http://jabber.org/protocol/muc#owner'>\
      <x xmlns='jabber:x:data' type='form'><title>Configuration for tea@conference.localhost</title>\
      <instructions>Complete and submit this form to configure the room.</instructions>\
      <field type='hidden' var='FORM_TYPE'><value>http://jabber.org/protocol/muc#roomconfig</value></field>\
      <field type='fixed'><value>Room information</value></field>\
      <field type='text-single' label='Title' var='muc#roomconfig_roomname'><value>Tea</value></field>\
      <field type='text-multi' label='Description' var='muc#roomconfig_roomdesc'><desc>A longer text</desc></field>\
      <field type='boolean' label='Persistent (room should remain even when it is empty)' var='muc#roomconfig_persistentroom'><value>0</value></field>\
      <field type='boolean' label='Only allow members to join' var='muc#roomconfig_membersonly'><value>false</value></field>\
      <field type='text-private' label='Password' var='muc#roomconfig_roomsecret'/>\
      <field type='list-single' label='Addresses (JIDs) of room occupants may be viewed by:' var='muc#roomconfig_whois'>\
        <option label='Moderators only'><value>moderators</value></option>\
        <option label='Anyone'><value>anyone</value></option><value>moderators</value></field>\
      <field type='list-multi' label='Roles that receive presence' var='muc#roomconfig_presencebroadcast'>\
        <option label='Moderator'><value>moderator</value></option><option label='Participant'><value>participant</value></option>\
        <value>moderator</value></field>\
      <field type='jid-multi' label='Room admins' var='muc#roomconfig_roomadmins'><value>a@x</value><value>b@x</value></field>\
      <field type='jid-single' label='Contact' var='x-contact'/>\
      <field type='text-single' var='muc#roomconfig_historylength'><required/><value>20</value></field>\
      </x></query>";

    fn form() -> DataForm {
        let el: Element = PROSODY_FORM.parse().unwrap_or_else(|_| unreachable!());
        DataForm::from_owner_query(&el).unwrap_or_else(|| unreachable!())
    }

    #[test]
    fn every_field_type_is_read() {
        let f = form();
        assert_eq!(
            f.title.as_deref(),
            Some("Configuration for tea@conference.localhost")
        );
        assert_eq!(f.instructions.len(), 1);
        assert_eq!(f.form_type(), Some(ROOMCONFIG));
        let kinds: Vec<FieldKind> = f.fields.iter().map(|x| x.kind).collect();
        assert_eq!(
            kinds,
            vec![
                FieldKind::Hidden,
                FieldKind::Fixed,
                FieldKind::TextSingle,
                FieldKind::TextMulti,
                FieldKind::Boolean,
                FieldKind::Boolean,
                FieldKind::TextPrivate,
                FieldKind::ListSingle,
                FieldKind::ListMulti,
                FieldKind::JidMulti,
                FieldKind::JidSingle,
                FieldKind::TextSingle,
            ]
        );
        let whois = f
            .field("muc#roomconfig_whois")
            .unwrap_or_else(|| unreachable!());
        assert_eq!(whois.first(), "moderators");
        assert_eq!(whois.options[1].label, "Anyone");
        assert_eq!(
            whois.title(),
            "Addresses (JIDs) of room occupants may be viewed by:"
        );
        assert!(
            !f.field("muc#roomconfig_membersonly")
                .is_some_and(Field::is_true)
        );
        assert_eq!(
            f.field("muc#roomconfig_roomdesc")
                .and_then(|x| x.desc.clone()),
            Some("A longer text".into())
        );
        assert_eq!(f.visible().count(), 11);
        assert!(f.missing().is_empty());
    }

    #[test]
    fn submit_carries_the_edits_and_no_fixed_field() {
        let mut f = form();
        if let Some(x) = f.field_mut("muc#roomconfig_roomname") {
            x.set_single("Green tea");
        }
        if let Some(x) = f.field_mut("muc#roomconfig_membersonly") {
            x.set_bool(true);
        }
        if let Some(x) = f.field_mut("muc#roomconfig_whois") {
            x.set_single("anyone");
        }
        if let Some(x) = f.field_mut("muc#roomconfig_presencebroadcast") {
            x.toggle("participant", true);
        }
        if let Some(x) = f.field_mut("muc#roomconfig_roomadmins") {
            x.set_lines("c@x\n\n d@x");
        }
        let xml = String::from(&config_submit(&f));
        assert!(xml.contains("type='submit'"), "{xml}");
        assert!(
            xml.contains(
                "<field var='FORM_TYPE'><value>http://jabber.org/protocol/muc#roomconfig</value>"
            ),
            "{xml}"
        );
        assert!(
            xml.contains("<field var='muc#roomconfig_roomname'><value>Green tea</value>"),
            "{xml}"
        );
        assert!(
            xml.contains("<field var='muc#roomconfig_membersonly'><value>1</value>"),
            "{xml}"
        );
        assert!(
            xml.contains("<field var='muc#roomconfig_whois'><value>anyone</value>"),
            "{xml}"
        );
        assert!(
            xml.contains("<value>moderator</value><value>participant</value>"),
            "{xml}"
        );
        assert!(
            xml.contains("<value>c@x</value><value>d@x</value>"),
            "{xml}"
        );
        assert!(
            !xml.contains("Room information"),
            "fixed text is not sent back: {xml}"
        );
        // An untouched empty private field is sent without a value.
        assert!(
            xml.contains("<field var='muc#roomconfig_roomsecret'/>"),
            "{xml}"
        );
    }

    #[test]
    fn required_empty_fields_are_named() {
        let mut f = form();
        if let Some(x) = f.field_mut("muc#roomconfig_historylength") {
            x.set_single("");
        }
        assert_eq!(f.missing(), vec!["muc#roomconfig_historylength".to_owned()]);
    }

    #[test]
    fn not_a_form_is_none() {
        let el: Element = "<query xmlns='http://jabber.org/protocol/muc#owner'/>"
            .parse()
            .unwrap_or_else(|_| unreachable!());
        assert_eq!(DataForm::from_owner_query(&el), None);
        let cancel = String::from(&config_cancel());
        assert!(cancel.contains("type='cancel'"), "{cancel}");
    }
}
