; Descriptors of JavaScript files (captures as in queries/rust/descriptors.scm).

; Module documentation: the leading comment.
(program . (comment) @doc)
(program . (hash_bang_line) . (comment) @doc)

; Methods.
(class_body (method_definition name: (_) @name body: (_) @body) @definition.method)

; Top-level declarations, exported or not.
(program
  [
    (function_declaration name: (identifier) @name body: (_) @body)
    (generator_function_declaration name: (identifier) @name body: (_) @body)
  ] @definition.function)
(export_statement
  declaration: [
    (function_declaration name: (identifier) @name body: (_) @body)
    (generator_function_declaration name: (identifier) @name body: (_) @body)
  ]) @definition.function
(program (class_declaration name: (identifier) @name body: (_) @body) @definition.class)
(export_statement
  declaration: (class_declaration name: (identifier) @name body: (_) @body)) @definition.class

; Functions declared inside a function's body (a rule's helpers inside
; `create(context)`), and methods of object literals.
(statement_block
  [
    (function_declaration name: (identifier) @name body: (_) @body)
    (generator_function_declaration name: (identifier) @name body: (_) @body)
  ] @definition.function)
(object (method_definition name: (property_identifier) @name body: (_) @body) @definition.method)

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

; References: calls, constructors, imported names, JSX components.
(call_expression function: (identifier) @reference)
(call_expression function: (member_expression property: (property_identifier) @reference))
(new_expression constructor: (identifier) @reference)
(import_specifier name: (identifier) @reference)
(import_clause (identifier) @reference)
(class_heritage (identifier) @reference)
(jsx_opening_element name: (identifier) @reference)
(jsx_self_closing_element name: (identifier) @reference)
