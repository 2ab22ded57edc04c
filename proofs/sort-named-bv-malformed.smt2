; Legal SMT-LIB (a user sort named bv), but z3-solver 5.2.0 rejects the name with an error and then
; answers anyway: any (error ...) in Z3's output makes the verdict malformed.
(set-logic QF_UF)
(declare-sort bv 0)
(declare-const x bv)
(declare-const y bv)
(assert (not (= x y)))
(check-sat)
