/*
 * Model of illumos libcontract's <libcontract.h>: the calls the backend
 * makes, with libcontract's signatures; implemented by
 * test/illumos/model/libcontract.c over the model kernel.  Not illumos.
 */
#ifndef MODEL_LIBCONTRACT_H
#define MODEL_LIBCONTRACT_H

#include <sys/types.h>
#include <sys/contract.h>

typedef void *ct_stathdl_t;
typedef void *ct_evthdl_t;

int ct_tmpl_activate(int);
int ct_tmpl_clear(int);
int ct_tmpl_create(int, ctid_t *);
int ct_tmpl_set_cookie(int, uint64_t);
int ct_tmpl_set_critical(int, uint_t);
int ct_tmpl_get_critical(int, uint_t *);
int ct_tmpl_get_cookie(int, uint64_t *);
int ct_tmpl_set_informative(int, uint_t);
int ct_tmpl_get_informative(int, uint_t *);

int ct_ctl_adopt(int);
int ct_ctl_abandon(int);
int ct_ctl_ack(int, ctevid_t);
int ct_ctl_nack(int, ctevid_t);
int ct_ctl_qack(int, ctevid_t);

int ct_status_read(int, int, ct_stathdl_t *);
void ct_status_free(ct_stathdl_t);
ctid_t ct_status_get_id(ct_stathdl_t);
zoneid_t ct_status_get_zoneid(ct_stathdl_t);
id_t ct_status_get_holder(ct_stathdl_t);
ctstate_t ct_status_get_state(ct_stathdl_t);
int ct_status_get_nevents(ct_stathdl_t);
int ct_status_get_ntime(ct_stathdl_t);
int ct_status_get_qtime(ct_stathdl_t);
ctevid_t ct_status_get_nevid(ct_stathdl_t);
uint_t ct_status_get_informative(ct_stathdl_t);
uint_t ct_status_get_critical(ct_stathdl_t);
uint64_t ct_status_get_cookie(ct_stathdl_t);

int ct_event_read(int, ct_evthdl_t *);
int ct_event_reset(int);
int ct_event_reliable(int);
void ct_event_free(ct_evthdl_t);
uint_t ct_event_get_flags(ct_evthdl_t);
ctid_t ct_event_get_ctid(ct_evthdl_t);
ctevid_t ct_event_get_evid(ct_evthdl_t);
uint_t ct_event_get_type(ct_evthdl_t);
int ct_event_get_nevid(ct_evthdl_t, ctevid_t *);
int ct_event_get_newct(ct_evthdl_t, ctid_t *);

int ct_pr_tmpl_set_transfer(int, ctid_t);
int ct_pr_tmpl_set_fatal(int, uint_t);
int ct_pr_tmpl_get_fatal(int, uint_t *);
int ct_pr_tmpl_get_param(int, uint_t *);
int ct_pr_tmpl_set_param(int, uint_t);
int ct_pr_tmpl_set_svc_fmri(int, const char *);
int ct_pr_tmpl_set_svc_aux(int, const char *);

int ct_pr_event_get_pid(ct_evthdl_t, pid_t *);
int ct_pr_event_get_ppid(ct_evthdl_t, pid_t *);
int ct_pr_event_get_signal(ct_evthdl_t, int *);
int ct_pr_event_get_sender(ct_evthdl_t, pid_t *);
int ct_pr_event_get_senderct(ct_evthdl_t, ctid_t *);
int ct_pr_event_get_exitstatus(ct_evthdl_t, int *);
int ct_pr_event_get_pcorefile(ct_evthdl_t, const char **);
int ct_pr_event_get_gcorefile(ct_evthdl_t, const char **);
int ct_pr_event_get_zcorefile(ct_evthdl_t, const char **);

int ct_pr_status_get_param(ct_stathdl_t, uint_t *);
int ct_pr_status_get_fatal(ct_stathdl_t, uint_t *);
int ct_pr_status_get_members(ct_stathdl_t, pid_t **, uint_t *);
int ct_pr_status_get_contracts(ct_stathdl_t, ctid_t **, uint_t *);
int ct_pr_status_get_svc_fmri(ct_stathdl_t, char **);
int ct_pr_status_get_svc_aux(ct_stathdl_t, char **);
int ct_pr_status_get_svc_ctid(ct_stathdl_t, ctid_t *);
int ct_pr_status_get_svc_creator(ct_stathdl_t, char **);

int ct_dev_tmpl_set_minor(int, char *);
int ct_dev_tmpl_set_aset(int, uint_t);
int ct_dev_tmpl_set_noneg(int);
int ct_dev_tmpl_clear_noneg(int);
int ct_dev_status_get_aset(ct_stathdl_t, uint_t *);
int ct_dev_status_get_noneg(ct_stathdl_t, uint_t *);
int ct_dev_status_get_dev_state(ct_stathdl_t, uint_t *);
int ct_dev_status_get_minor(ct_stathdl_t, char **);

#endif
