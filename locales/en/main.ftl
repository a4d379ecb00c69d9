# English text for atip. Every message here must also exist in locales/es/main.ftl
# (a test fails otherwise).

site-title = atip
skip-to-content = Skip to main content
quick-exit = Quick exit
quick-exit-hint = Or press Esc three times
nav-label = Main
nav-home = Home
nav-api = API
lang-switch = Español

footer-hotline = National Human Trafficking Hotline, 24 hours, every day:
footer-call = call
footer-text = text
footer-emergency = In immediate danger, call 911.
footer-credit = atip is open software for anti-trafficking programs. Place data: GeoNames (CC BY 4.0).

error-status = Status:
error-request-id = If you ask for help, quote this request id:
error-home = Go to the home page
error-400-title = The request could not be understood
error-400-text = Something in the request was not valid. Check it and try again.
error-401-title = Please sign in
error-401-text = This page is for signed-in staff. Sign in and try again.
error-429-title = Too many attempts
error-429-text = Wait a little before trying again.
error-403-title = Not allowed
error-403-text = Your account may not open this page. Ask your administrator if you need it.
error-404-title = Page not found
error-404-text = There is no page at this address. It may have moved, or the link may be wrong.
error-405-title = Not allowed this way
error-405-text = This page does not take that kind of request.
error-413-title = Too large
error-413-text = What you sent is larger than atip accepts.
error-422-title = Please check what you entered
error-422-text = Some of what you entered could not be accepted. Correct the marked fields and try again.
error-500-title = Something went wrong
error-500-text = An error on our side kept us from answering. Nothing you entered was half-saved; try again in a moment.

home-title = Working together against human trafficking
home-intro = atip runs an anti-trafficking program: the 24/7 hotline, the national directory of services, case management for survivors, certification and eligibility letters, and public-awareness coalitions.
home-help-label = Get help now
home-help-heading = Need help now?
home-help-text = Call the hotline at { $phone }, any time, in English, Spanish or 200 other languages. If you are in immediate danger, call 911.
home-parts-heading = What atip does
home-part-hotline = A 24/7 hotline on phone, text, chat and email, with referrals and tips.
home-part-directory = A vetted national directory of organizations and individuals, and a resource library.
home-part-cases = Case management for survivors across networks of service providers.
home-part-letters = Certification and eligibility letters that open benefits to foreign victims.
home-part-coalitions = Rescue and Restore coalitions and grants for public awareness.
home-status-heading = This installation
home-organizations = Organizations taking part: { $count }.

api-docs-title = API reference
api-docs-intro = atip's JSON API lives under /api/v1. This page is made from the same OpenAPI 3.1 document that programs can read.
api-docs-openapi = Download the OpenAPI document
api-docs-parameters = Parameters
api-docs-responses = Responses
api-docs-name = Name
api-docs-in = In
api-docs-required = Required
api-docs-description = Description
api-docs-yes = yes
api-docs-no = no

sign-in-title = Sign in
sign-in-email = Email
sign-in-password = Password
sign-in-submit = Sign in
sign-in-refused = The email or password is not right, or the account is locked. After many failed attempts an account locks until an administrator unlocks it.
sign-in-wait = Too many failed attempts in a row. Wait a little, then try again.
nav-account = Your account
account-title = Your account
account-name = Name
account-email = Email
account-roles = Roles
sign-out = Sign out
sign-out-everywhere = Sign out on every device
demo-banner = Demonstration: every record here is synthetic. Do not enter real information.
