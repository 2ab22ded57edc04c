; Three integers in [1, 3] that sum to 10: impossible.
(set-logic QF_LIA)
(declare-const a Int)
(declare-const b Int)
(declare-const c Int)
(assert (and (<= 1 a) (<= a 3) (<= 1 b) (<= b 3) (<= 1 c) (<= c 3)))
(assert (= (+ a b c) 10))
(check-sat)
(exit)
