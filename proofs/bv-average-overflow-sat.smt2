; (a + b) / 2 on 16-bit words can overflow: find a and b where it differs from the wide average.
(set-logic QF_BV)
(declare-const a (_ BitVec 16))
(declare-const b (_ BitVec 16))
(define-fun narrow () (_ BitVec 16) (bvudiv (bvadd a b) #x0002))
(define-fun wide () (_ BitVec 17) (bvudiv (bvadd ((_ zero_extend 1) a) ((_ zero_extend 1) b)) #b00000000000000010))
(assert (not (= ((_ zero_extend 1) narrow) wide)))
(check-sat)
