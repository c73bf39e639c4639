//! The registry: every block and connector the engine can use, by id.

use std::sync::Arc;

use indexmap::IndexMap;

use super::{Block, Connector, FlowCheck, RegisteredBlock, RegisteredConnector};

/// Blocks and connectors by id, in registration order.
#[derive(Debug, Default, Clone)]
pub struct Registry {
    blocks: IndexMap<&'static str, Arc<RegisteredBlock>>,
    connectors: IndexMap<&'static str, Arc<RegisteredConnector>>,
    checks: Vec<Arc<dyn FlowCheck>>,
    duplicates: Vec<&'static str>,
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Registry {
        Registry::default()
    }

    /// Adds a block.
    pub fn block<B: Block>(mut self, block: B) -> Registry {
        let block = RegisteredBlock::new(block);
        let id = block.spec.id;
        if self.blocks.insert(id, Arc::new(block)).is_some() {
            self.duplicates.push(id);
        }
        self
    }

    /// Adds a block already registered (one described at run time: [`RegisteredBlock::dynamic`]).
    pub fn registered_block(mut self, block: RegisteredBlock) -> Registry {
        let id = block.spec.id;
        if self.blocks.insert(id, Arc::new(block)).is_some() {
            self.duplicates.push(id);
        }
        self
    }

    /// Adds a connector already registered (one described at run time: [`RegisteredConnector::dynamic`]).
    pub fn registered_connector(mut self, connector: RegisteredConnector) -> Registry {
        let id = connector.spec.id;
        if self.connectors.insert(id, Arc::new(connector)).is_some() {
            self.duplicates.push(id);
        }
        self
    }

    /// Adds a connector.
    pub fn connector<C: Connector>(mut self, connector: C) -> Registry {
        let connector = RegisteredConnector::new(connector);
        let id = connector.spec.id;
        if self.connectors.insert(id, Arc::new(connector)).is_some() {
            self.duplicates.push(id);
        }
        self
    }

    /// The block with this id.
    pub fn get(&self, id: &str) -> Option<&Arc<RegisteredBlock>> {
        self.blocks.get(id)
    }

    /// The connector with this id.
    pub fn get_connector(&self, id: &str) -> Option<&Arc<RegisteredConnector>> {
        self.connectors.get(id)
    }

    /// Adds a rule over whole flows (see [`FlowCheck`]).
    pub fn check<C: FlowCheck>(mut self, check: C) -> Registry {
        self.checks.push(Arc::new(check));
        self
    }

    /// Every flow rule, in registration order.
    pub fn checks(&self) -> impl Iterator<Item = &Arc<dyn FlowCheck>> {
        self.checks.iter()
    }

    /// Every block, in registration order.
    pub fn blocks(&self) -> impl Iterator<Item = &Arc<RegisteredBlock>> {
        self.blocks.values()
    }

    /// Every connector, in registration order.
    pub fn connectors(&self) -> impl Iterator<Item = &Arc<RegisteredConnector>> {
        self.connectors.values()
    }

    /// Ids registered more than once (a registry table mistake; tests assert there are none).
    pub fn duplicates(&self) -> &[&'static str] {
        &self.duplicates
    }
}

impl std::fmt::Debug for dyn FlowCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "FlowCheck({:?})", self.blocks())
    }
}
