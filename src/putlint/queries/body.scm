; One function's body, read on demand (parse.onsite.function_bodies): its
; calls, its goto labels, the names it assigns to or takes the address of
; (a caller's value for such a parameter no longer holds inside), and what
; its locals are assigned.

(call_expression function: (_)) @call

(labeled_statement label: (statement_identifier) @label)

(assignment_expression left: (identifier) @assigned)
(update_expression argument: (identifier) @assigned)
(pointer_expression "&" argument: (identifier) @assigned)

; What a local stands for: `inode = &ci->netfs.inode`, `last = inode`.
(assignment_expression left: (identifier) @alias.name right: (_) @alias.value)
(init_declarator
  declarator: [(identifier) @alias.name (pointer_declarator declarator: (identifier) @alias.name)]
  value: (_) @alias.value)

; Statements that leave the normal flow, for where a call runs on every path
; (brackets.py).
[(return_statement) (goto_statement) (break_statement) (continue_statement)] @exit
