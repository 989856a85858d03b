; Descriptors of Rust files.
; Captures: @definition.<kind> (the defining node), @name, @signature (overrides the
; signature range), @body (cut from the signature), @value (elided when long),
; @import, @doc (module documentation), @reference (identifiers used).

; Module documentation: `//!` and `/*! */` at the top, else the first `///`.
(source_file (line_comment doc: (doc_comment) @doc))
(source_file (block_comment doc: (doc_comment) @doc))

; Methods: functions in impl and trait bodies.
(impl_item
  body: (declaration_list
    (function_item name: (identifier) @name body: (block) @body) @definition.method))
(trait_item
  body: (declaration_list
    (function_item name: (identifier) @name body: (block) @body) @definition.method))
(trait_item
  body: (declaration_list
    (function_signature_item name: (identifier) @name) @definition.method))

; Free functions, at the top level or in inline modules (not functions local to a body).
(source_file (function_item name: (identifier) @name body: (block) @body) @definition.function)
(mod_item
  body: (declaration_list
    (function_item name: (identifier) @name body: (block) @body) @definition.function))

(struct_item name: (type_identifier) @name body: (_)? @body) @definition.struct
(enum_item name: (type_identifier) @name body: (_) @body) @definition.enum
(union_item name: (type_identifier) @name body: (_) @body) @definition.union
(trait_item name: (type_identifier) @name body: (_) @body) @definition.trait
(impl_item type: (_) @name body: (_) @body) @definition.impl
(type_item name: (type_identifier) @name) @definition.type
(mod_item name: (identifier) @name body: (_)? @body) @definition.module
(macro_definition "macro_rules!" @signature name: (identifier) @name @signature) @definition.macro

(source_file (const_item name: (identifier) @name value: (_)? @value) @definition.constant)
(source_file (static_item name: (identifier) @name value: (_)? @value) @definition.static)
(declaration_list (const_item name: (identifier) @name value: (_)? @value) @definition.constant)
(declaration_list (static_item name: (identifier) @name value: (_)? @value) @definition.static)

; Imports.
(use_declaration argument: (_) @import)
(extern_crate_declaration name: (identifier) @import)

; References: calls, macros, types and the last segments of paths.
(call_expression function: (identifier) @reference)
(call_expression function: (field_expression field: (field_identifier) @reference))
(call_expression function: (scoped_identifier name: (identifier) @reference))
(call_expression
  function: (generic_function function: [
    (identifier) @reference
    (scoped_identifier name: (identifier) @reference)
    (field_expression field: (field_identifier) @reference)
  ]))
(macro_invocation macro: (identifier) @reference)
(type_identifier) @reference
(scoped_identifier path: (identifier) @reference)
(use_declaration argument: (scoped_identifier name: (identifier) @reference))
(use_list (identifier) @reference)
(use_list (scoped_identifier name: (identifier) @reference))
(use_as_clause path: (scoped_identifier name: (identifier) @reference))
