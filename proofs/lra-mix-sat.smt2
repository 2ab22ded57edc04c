; A feasible blend: 40% to 60% of x, the rest y, cost below 3.7 per unit.
(set-logic QF_LRA)
(declare-const x Real)
(declare-const y Real)
(assert (= (+ x y) 1.0))
(assert (and (>= x 0.4) (<= x 0.6) (>= y 0.0)))
(assert (< (+ (* 3.0 x) (* 4.5 y)) 3.7))
(check-sat)
