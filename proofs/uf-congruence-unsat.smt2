; Congruence: f(f(f(a))) = a and f(f(f(f(f(a))))) = a imply f(a) = a.
(set-logic QF_UF)
(declare-sort U 0)
(declare-const a U)
(declare-fun f (U) U)
(assert (= (f (f (f a))) a))
(assert (= (f (f (f (f (f a))))) a))
(assert (not (= (f a) a)))
(check-sat)
