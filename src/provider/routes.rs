//! Which provider, and which of its models, serves the planner and each agent role; and every
//! provider a session may choose by name instead (`ProviderChoice`).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use crate::provider::Provider;
use crate::session::provider_choice::{ProviderChoice, ProviderPick};

#[derive(Clone)]
pub struct Route {
    pub provider: Arc<dyn Provider>,
    /// Overrides the provider's own model for this role.
    pub model: Option<String>,
}

impl Route {
    /// The model calls on this route ask for.
    pub fn model_name(&self) -> &str {
        self.model
            .as_deref()
            .unwrap_or_else(|| self.provider.model())
    }
}

/// A provider a session may name, or why it cannot be used here (no API key...).
type Named = Result<Arc<dyn Provider>, String>;

#[derive(Clone)]
pub struct Routes {
    default: Route,
    roles: HashMap<String, Route>,
    /// By configured name; shared by every session's routes.
    named: Arc<BTreeMap<String, Named>>,
}

impl Routes {
    /// Everything on one provider, which is also the only one a session may name.
    pub fn single(provider: Arc<dyn Provider>) -> Self {
        let named = BTreeMap::from([(provider.name().to_string(), Ok(provider.clone()))]);
        Routes {
            default: Route {
                provider,
                model: None,
            },
            roles: HashMap::new(),
            named: Arc::new(named),
        }
    }

    pub fn with_role(mut self, role: &str, route: Route) -> Self {
        self.roles.insert(role.to_string(), route);
        self
    }

    /// Every provider sessions may choose by name (the configured ones), replacing the list.
    pub fn with_named(mut self, named: BTreeMap<String, Named>) -> Self {
        self.named = Arc::new(named);
        self
    }

    /// The provider sessions are created with; the planner runs on it.
    pub fn default_provider(&self) -> &Arc<dyn Provider> {
        &self.default.provider
    }

    pub fn default_route(&self) -> &Route {
        &self.default
    }

    pub fn for_role(&self, role: &str) -> Route {
        self.roles
            .get(role)
            .cloned()
            .unwrap_or_else(|| self.default.clone())
    }

    /// The names a session may choose, for messages.
    pub fn names(&self) -> Vec<&str> {
        self.named.keys().map(String::as_str).collect()
    }

    /// These routes with a session's choice laid over them: a chosen default moves the planner
    /// and every role the choice does not name (roles routed by the configuration included: the
    /// person asked for everything on that provider); a chosen role moves that role.
    pub fn chosen(&self, choice: &ProviderChoice) -> Result<Routes, String> {
        if choice.is_default() {
            return Ok(self.clone());
        }
        let mut routes = self.clone();
        if !choice.default.is_empty() {
            routes.default = self.route_for(&choice.default, &self.default)?;
            routes.roles.clear();
        }
        for (role, pick) in &choice.roles {
            let base = routes.for_role(role);
            let route = self
                .route_for(pick, &base)
                .map_err(|e| format!("{e} (asked for role `{role}`)"))?;
            routes.roles.insert(role.clone(), route);
        }
        Ok(routes)
    }

    /// Whether a session could start on this choice: its providers usable here, its roles
    /// among `roles`.
    pub fn check_choice(&self, choice: &ProviderChoice, roles: &[String]) -> Result<(), String> {
        if let Some(role) = choice.roles.keys().find(|r| !roles.contains(r)) {
            return Err(format!(
                "no agent role `{role}` to put on another provider (roles: {})",
                roles.join(", ")
            ));
        }
        self.chosen(choice).map(|_| ())
    }

    fn route_for(&self, pick: &ProviderPick, base: &Route) -> Result<Route, String> {
        let provider = match &pick.provider {
            None => base.provider.clone(),
            Some(name) => match self.named.get(name) {
                Some(Ok(provider)) => provider.clone(),
                Some(Err(why)) => return Err(format!("provider `{name}` is not available: {why}")),
                None => {
                    return Err(format!(
                        "no provider named `{name}` (known: {})",
                        self.names().join(", ")
                    ));
                }
            },
        };
        if pick.model.is_some() && !provider.can_switch_model() {
            return Err(format!(
                "provider `{}` runs one model file and cannot switch to model `{}`",
                provider.name(),
                pick.model.as_deref().unwrap_or_default()
            ));
        }
        // A provider chosen by name runs on its own model unless one is given: a model named
        // in an agent's file was meant for the configured provider, not this one.
        let model = pick.model.clone().or_else(|| {
            (pick.provider.is_some() && provider.can_switch_model())
                .then(|| provider.model().to_string())
        });
        Ok(Route { provider, model })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::provider::{CallControl, ChatRequest, ProviderStream};

    struct Named(&'static str, bool);

    impl Provider for Named {
        fn name(&self) -> &str {
            self.0
        }
        fn model(&self) -> &str {
            "own-model"
        }
        fn supports_grammar(&self) -> bool {
            false
        }
        fn can_switch_model(&self) -> bool {
            self.1
        }
        fn stream(&self, _: ChatRequest, _: CallControl) -> ProviderStream {
            Box::pin(futures::stream::empty())
        }
    }

    fn routes() -> Routes {
        let local: Arc<dyn Provider> = Arc::new(Named("local", false));
        let openai: Arc<dyn Provider> = Arc::new(Named("openai", true));
        Routes::single(local.clone())
            .with_role(
                "writer",
                Route {
                    provider: openai.clone(),
                    model: Some("writer-model".into()),
                },
            )
            .with_named(BTreeMap::from([
                ("local".to_string(), Ok(local)),
                ("openai".to_string(), Ok(openai)),
                ("anthropic".to_string(), Err("needs an API key".to_string())),
            ]))
    }

    #[test]
    fn a_chosen_default_moves_everything_it_does_not_name() {
        let choice = ProviderChoice::all_on(ProviderPick::parse("openai:gpt-x").unwrap());
        let chosen = routes().chosen(&choice).unwrap();
        assert_eq!(chosen.default_provider().name(), "openai");
        assert_eq!(chosen.default_route().model_name(), "gpt-x");
        assert_eq!(chosen.for_role("writer").model_name(), "gpt-x");
        assert_eq!(chosen.for_role("researcher").provider.name(), "openai");
    }

    #[test]
    fn a_chosen_role_moves_only_that_role() {
        let mut choice = ProviderChoice::default();
        choice.add_role("researcher=openai").unwrap();
        let chosen = routes().chosen(&choice).unwrap();
        assert_eq!(chosen.default_provider().name(), "local");
        assert_eq!(chosen.for_role("researcher").provider.name(), "openai");
        assert_eq!(chosen.for_role("researcher").model_name(), "own-model");
        assert_eq!(chosen.for_role("writer").model_name(), "writer-model");
    }

    #[test]
    fn a_choice_naming_an_unknown_role_is_refused() {
        let mut choice = ProviderChoice::default();
        choice.add_role("poet=openai").unwrap();
        let roles = ["writer".to_string(), "analyst".to_string()];
        assert_eq!(
            routes().check_choice(&choice, &roles).unwrap_err(),
            "no agent role `poet` to put on another provider (roles: writer, analyst)"
        );
        choice.roles.clear();
        choice.add_role("writer=openai").unwrap();
        assert!(routes().check_choice(&choice, &roles).is_ok());
    }

    #[test]
    fn unknown_unavailable_and_impossible_choices_say_why() {
        let pick = |text| ProviderChoice::all_on(ProviderPick::parse(text).unwrap());
        let err = |text| routes().chosen(&pick(text)).err().unwrap();
        assert_eq!(
            err("nope"),
            "no provider named `nope` (known: anthropic, local, openai)"
        );
        assert_eq!(
            err("anthropic"),
            "provider `anthropic` is not available: needs an API key"
        );
        assert!(err("local:other").contains("cannot switch to model `other`"));
    }
}
