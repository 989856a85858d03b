; Descriptors of TOML files: top-level keys and table headers.

(document . (comment) @doc)
(document (pair . (_) @name (_) @value .) @definition.key)
(table "[" @signature . (_) @name "]" @signature) @definition.table
(table_array_element "[[" @signature . (_) @name "]]" @signature) @definition.table
