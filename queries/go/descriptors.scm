; Descriptors of Go files (captures as in queries/rust/descriptors.scm).

; Package documentation: the comments before `package`, else the first comment.
(source_file (comment) @doc)

(source_file
  (function_declaration name: (identifier) @name body: (_)? @body) @definition.function)
(source_file
  (method_declaration name: (field_identifier) @name body: (_)? @body) @definition.method)
(type_declaration
  (type_spec
    name: (type_identifier) @name @signature
    type: [
      (struct_type "struct" @signature)
      (interface_type "interface" @signature)
    ]) @definition.type)
(type_declaration
  (type_spec
    name: (type_identifier) @name
    type: [
      (type_identifier) (qualified_type) (pointer_type) (slice_type) (map_type)
      (array_type) (function_type) (channel_type) (generic_type)
    ]) @definition.type)
(type_declaration (type_alias name: (type_identifier) @name) @definition.type)
(source_file (const_declaration (const_spec name: (identifier) @name value: (_)? @value) @definition.constant))
(source_file (var_declaration (var_spec name: (identifier) @name value: (_)? @value) @definition.variable))

; Imports.
(import_spec path: (_) @import)

; References: calls, types, package selectors.
(call_expression function: (identifier) @reference)
(call_expression function: (selector_expression field: (field_identifier) @reference))
(type_identifier) @reference
(composite_literal type: (type_identifier) @reference)
