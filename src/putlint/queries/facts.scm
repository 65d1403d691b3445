; One combined query: the tree is walked once for every fact kind.
; parse/__init__.py reads it with captures() and hands each capture name to its
; handler; captures used only by predicates are ignored there but must stay
; enabled.

(function_definition) @function

; SYSCALL_DEFINEn(name, ...) { ... } comes out as a call statement followed by
; its body; inside an ERROR parent the sibling pattern needs its own variant.
; The macro pattern is syscalls.macro of kernel/apis.yaml (a test checks that
; the two agree).
((expression_statement
   (call_expression function: (identifier) @syscall.macro)) @syscall
 .
 (compound_statement)
 (#match? @syscall.macro "^(COMPAT_)?SYSCALL_DEFINE[0-6]$"))

(ERROR
  (expression_statement
    (call_expression function: (identifier) @syscall.macro)) @syscall
  .
  (compound_statement)
  (#match? @syscall.macro "^(COMPAT_)?SYSCALL_DEFINE[0-6]$"))

(ERROR
  (call_expression function: (identifier) @syscall.macro) @syscall
  .
  (compound_statement)
  (#match? @syscall.macro "^(COMPAT_)?SYSCALL_DEFINE[0-6]$"))

(call_expression function: (identifier) @call.direct)

; `f(container_of(p, struct T, m));` as a statement parses as a macro type with
; no error: the outer name and the inner macro are both calls.
(compound_statement (macro_type_specifier name: (identifier) @call.direct))
(compound_statement
  (macro_type_specifier
    type: (type_descriptor
      type: (type_identifier) @call.direct
      declarator: (abstract_function_declarator))))

(call_expression
  function: [
    (field_expression)
    (parenthesized_expression)
    (call_expression)
    (subscript_expression)
    (pointer_expression)
    (cast_expression)
    (conditional_expression)
  ] @call.indirect)

; Prototypes: with the definitions, the functions a file can pass as callbacks.
(declaration declarator: (function_declarator declarator: (identifier) @prototype))
(declaration
  declarator: (pointer_declarator declarator: (function_declarator declarator: (identifier) @prototype)))

; Functions passed as arguments: candidate callbacks.
(argument_list (identifier) @ref)
(argument_list (pointer_expression "&" argument: (identifier) @ref))

; Allocation flags built from several constants: GFP_NOFS | __GFP_NOFAIL.
(argument_list (binary_expression) @flags)

(initializer_pair) @init

(assignment_expression
  left: [(field_expression) (identifier)]
  right: [(identifier) (pointer_expression "&" argument: (identifier))]) @assign

(field_declaration) @member
