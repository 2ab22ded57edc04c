; Swapping a[i] and a[j] twice gives back the same array (extensionality).
(set-logic QF_AUFLIA)
(declare-const a (Array Int Int))
(declare-const i Int)
(declare-const j Int)
(define-fun swap ((m (Array Int Int)) (p Int) (q Int)) (Array Int Int)
  (store (store m p (select m q)) q (select m p)))
(assert (not (= (swap (swap a i j) i j) a)))
(check-sat)
