import nodemailer, { type Transporter } from 'nodemailer';
import type { Logger } from 'pino';

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
}

/**
 * Outgoing mail over SMTP (nodemailer). Without MPANEL_SMTP_URL, mail is not
 * sent and only its recipient and subject are logged (never its body: it may
 * hold a reset link).
 */
export class Mailer {
  private readonly transport: Transporter | null;

  constructor(
    smtpUrl: string | undefined,
    private readonly from: string,
    private readonly log: Logger,
  ) {
    this.transport = smtpUrl ? nodemailer.createTransport(smtpUrl) : null;
  }

  get enabled(): boolean {
    return this.transport !== null;
  }

  async send(message: MailMessage): Promise<void> {
    if (!this.transport) {
      this.log.warn({ to: message.to, subject: message.subject }, 'mail not sent: MPANEL_SMTP_URL is not set');
      return;
    }
    await this.transport.sendMail({ from: this.from, ...message });
  }

  close(): void {
    this.transport?.close();
  }
}
