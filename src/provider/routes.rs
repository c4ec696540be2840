//! Which provider, and which of its models, serves the planner and each agent role.

use std::collections::HashMap;
use std::sync::Arc;

use crate::provider::Provider;

#[derive(Clone)]
pub struct Route {
    pub provider: Arc<dyn Provider>,
    /// Overrides the provider's own model for this role.
    pub model: Option<String>,
}

#[derive(Clone)]
pub struct Routes {
    default: Arc<dyn Provider>,
    roles: HashMap<String, Route>,
}

impl Routes {
    /// Everything on one provider.
    pub fn single(provider: Arc<dyn Provider>) -> Self {
        Routes {
            default: provider,
            roles: HashMap::new(),
        }
    }

    pub fn with_role(mut self, role: &str, route: Route) -> Self {
        self.roles.insert(role.to_string(), route);
        self
    }

    /// The provider sessions are created with; the planner runs on it.
    pub fn default_provider(&self) -> &Arc<dyn Provider> {
        &self.default
    }

    pub fn for_role(&self, role: &str) -> Route {
        self.roles.get(role).cloned().unwrap_or_else(|| Route {
            provider: self.default.clone(),
            model: None,
        })
    }
}
