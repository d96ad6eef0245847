//! Sans-io protocol translation, one file per area.
