;;; Drives Emacs (batch) with eglot as a user would, after docs/editors.md's set-up: open
;;; an nginx site of the project, wait for conflint's diagnostics (flymake), take the quick
;;; fix from `eglot-code-actions', watch the diagnostics clear, then open the PHP-FPM pool.
;;; Each step's outcome goes, one line each, to $RESULT for tests/editors.rs; every wait is
;;; bounded, and Emacs exits whatever happens. Batch Emacs runs no idle timers, so the two
;;; things eglot and flymake do on them (send the edit, start a new buffer's check) are
;;; called by hand.
(require 'cl-lib)
(require 'eglot)
(defvar conflint-out nil)
(defun conflint-say (fmt &rest args) (push (apply #'format fmt args) conflint-out))
(defun conflint-wait (what cond)
  (let ((end (+ (float-time) 20)))
    (while (and (not (funcall cond)) (< (float-time) end))
      (accept-process-output nil 0.05))
    (unless (funcall cond) (error "timed out waiting for %s" what))))
(defun conflint-codes ()
  (let ((codes (mapcar (lambda (d) (if (string-match "\\[\\([A-Z]+[0-9]+\\)\\]" (flymake-diagnostic-text d))
                                       (match-string 1 (flymake-diagnostic-text d)) "?"))
                       (flymake-diagnostics))))
    (mapconcat #'identity (sort codes #'string<) " ")))

(defun conflint-drive ()
  (find-file (getenv "SITE"))
  (conflint-say "site mode %s" major-mode)
  (apply #'eglot (eglot--guess-contact)) ; M-x eglot
  (conflint-wait "the site diagnostics" (lambda () (flymake-diagnostics)))
  (conflint-say "site diagnostics %s" (conflint-codes))
  (goto-char (flymake-diagnostic-beg (car (flymake-diagnostics))))
  ;; The menu of quick fixes: take the NGX101 one.
  (let ((last-nonmenu-event 13) offered)
    (cl-letf (((symbol-function 'completing-read)
               (lambda (_prompt items &rest _)
                 (setq offered (mapcar #'car items))
                 (cl-find-if (lambda (title) (string-prefix-p "NGX101" title)) offered))))
      (eglot-code-actions (point) nil "quickfix" t))
    (conflint-say "offered %s" (mapconcat #'identity offered " | ")))
  (conflint-say "fixed line %s" (buffer-substring (line-beginning-position) (line-end-position)))
  (eglot--signal-textDocument/didChange)
  (conflint-wait "the diagnostics to clear" (lambda () (null (flymake-diagnostics))))
  (conflint-say "site diagnostics after the fix: %s" (conflint-codes))
  (find-file (getenv "POOL"))
  (conflint-say "pool managed by eglot %s" (if eglot--managed-mode "yes" "no"))
  (flymake-start)
  (conflint-wait "the pool diagnostics" (lambda () (flymake-diagnostics)))
  (conflint-say "pool diagnostics %s" (conflint-codes))
  (conflint-say "conflint servers %d" (length (gethash (eglot--current-project) eglot--servers-by-project))))

(condition-case err
    (progn (conflint-drive) (conflint-say "done"))
  (error (conflint-say "FAILED: %s" (error-message-string err))))
(with-temp-file (getenv "RESULT")
  (insert (mapconcat #'identity (reverse conflint-out) "\n") "\n"))
(let ((eglot-autoshutdown t)) (ignore-errors (eglot-shutdown-all)))
(kill-emacs 0)
