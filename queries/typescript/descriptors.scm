; Descriptors of TypeScript files (captures as in queries/rust/descriptors.scm).
; TSX files get this query followed by queries/tsx/descriptors.scm.

; Module documentation: the leading comment.
(program . (comment) @doc)
(program . (hash_bang_line) . (comment) @doc)

; Methods and method signatures.
(class_body (method_definition name: (_) @name body: (_) @body) @definition.method)
(class_body (abstract_method_signature name: (_) @name) @definition.method)
(interface_body (method_signature name: (_) @name) @definition.method)

; Top-level declarations, exported or not.
(program
  [
    (function_declaration name: (identifier) @name body: (_) @body)
    (generator_function_declaration name: (identifier) @name body: (_) @body)
    (function_signature name: (identifier) @name)
  ] @definition.function)
(export_statement
  declaration: [
    (function_declaration name: (identifier) @name body: (_) @body)
    (generator_function_declaration name: (identifier) @name body: (_) @body)
    (function_signature name: (identifier) @name)
  ]) @definition.function
(program
  [
    (class_declaration name: (type_identifier) @name body: (_) @body)
    (abstract_class_declaration name: (type_identifier) @name body: (_) @body)
  ] @definition.class)
(export_statement
  declaration: [
    (class_declaration name: (type_identifier) @name body: (_) @body)
    (abstract_class_declaration name: (type_identifier) @name body: (_) @body)
  ]) @definition.class

; Functions declared inside a function's body (a rule's helpers inside
; `create(context)`), and methods of object literals.
(statement_block
  [
    (function_declaration name: (identifier) @name body: (_) @body)
    (generator_function_declaration name: (identifier) @name body: (_) @body)
  ] @definition.function)
(object (method_definition name: (property_identifier) @name body: (_) @body) @definition.method)
(program (ambient_declaration (function_signature name: (identifier) @name)) @definition.function)
(program (interface_declaration name: (type_identifier) @name body: (_) @body) @definition.interface)
(export_statement
  declaration: (interface_declaration name: (type_identifier) @name body: (_) @body)) @definition.interface
(program (type_alias_declaration name: (type_identifier) @name value: (_) @value) @definition.type)
(export_statement
  declaration: (type_alias_declaration name: (type_identifier) @name value: (_) @value)) @definition.type
(program (enum_declaration name: (identifier) @name body: (_) @body) @definition.enum)
(export_statement
  declaration: (enum_declaration name: (identifier) @name body: (_) @body)) @definition.enum
(program (internal_module name: (_) @name body: (_) @body) @definition.module)
(program (expression_statement (internal_module name: (_) @name body: (_) @body)) @definition.module)
(export_statement
  declaration: (internal_module name: (_) @name body: (_) @body)) @definition.module

; `const f = (...) => ...` and `const f = function (...) {...}`.
(program
  (lexical_declaration
    (variable_declarator
      name: (identifier) @name
      value: [(arrow_function body: (_) @body) (function_expression body: (_) @body)])) @definition.function)
(export_statement
  declaration: (lexical_declaration
    (variable_declarator
      name: (identifier) @name
      value: [(arrow_function body: (_) @body) (function_expression body: (_) @body)]))) @definition.function

; Other top-level constants.
(program
  (lexical_declaration
    (variable_declarator name: (identifier) @name value: (_)? @value)) @definition.variable)
(export_statement
  declaration: (lexical_declaration
    (variable_declarator name: (identifier) @name value: (_)? @value))) @definition.variable

; Imports.
(import_statement source: (string (string_fragment) @import))
(export_statement source: (string (string_fragment) @import))
(call_expression
  function: (identifier) @_require
  arguments: (arguments . (string (string_fragment) @import))
  (#eq? @_require "require"))

; References: calls, constructors, imported names, types.
(call_expression function: (identifier) @reference)
(call_expression function: (member_expression property: (property_identifier) @reference))
(new_expression constructor: (identifier) @reference)
(import_specifier name: (identifier) @reference)
(import_clause (identifier) @reference)
(extends_clause value: (identifier) @reference)
(implements_clause (type_identifier) @reference)
(type_identifier) @reference
