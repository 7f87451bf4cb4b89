import nodemailer, { type Transporter } from 'nodemailer';
import type { Logger } from 'pino';
import { defineProblem } from '../errors/catalogue.js';
import { ProblemError } from '../errors/problem.js';

defineProblem('mail-unavailable', { status: 503, title: 'Mail could not be sent' });

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
}

/** Bounds on a slow or dead SMTP server, so a request never hangs on it for minutes (nodemailer's defaults). */
const TIMEOUTS = { connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 30_000 } as const;

/**
 * Outgoing mail over SMTP (nodemailer). Without MPANEL_SMTP_URL, mail is not
 * sent and only its recipient and subject are logged (never its body: it may
 * hold a reset link). A failed delivery is a `mail-unavailable` problem (503);
 * the log names the recipient and the SMTP error, never the body.
 */
export class Mailer {
  private readonly transport: Transporter | null;

  constructor(
    smtpUrl: string | undefined,
    private readonly from: string,
    private readonly log: Logger,
  ) {
    this.transport = smtpUrl ? nodemailer.createTransport({ url: smtpUrl, ...TIMEOUTS }) : null;
  }

  get enabled(): boolean {
    return this.transport !== null;
  }

  async send(message: MailMessage): Promise<void> {
    if (!this.transport) {
      this.log.warn({ to: message.to, subject: message.subject }, 'mail not sent: MPANEL_SMTP_URL is not set');
      return;
    }
    try {
      await this.transport.sendMail({ from: this.from, ...message });
    } catch (error) {
      const err = error as { code?: string; message?: string };
      this.log.error({ to: message.to, subject: message.subject, code: err?.code, reason: err?.message }, 'mail delivery failed');
      throw new ProblemError('mail-unavailable', 'The mail server could not be reached or refused the message; try again later');
    }
  }

  close(): void {
    this.transport?.close();
  }
}
