; The xor swap really swaps two 32-bit words: its negation is unsat.
(set-logic QF_BV)
(declare-const x (_ BitVec 32))
(declare-const y (_ BitVec 32))
(define-fun x1 () (_ BitVec 32) (bvxor x y))
(define-fun y1 () (_ BitVec 32) (bvxor x1 y))
(define-fun x2 () (_ BitVec 32) (bvxor x1 y1))
(assert (not (and (= x2 y) (= y1 x))))
(check-sat)
