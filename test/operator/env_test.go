package operator_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/ferrolb/ferrolb/controllers"
)

var _ = Describe("The operator's environment", func() {
	env := func(vars map[string]string) func(string) string { return func(k string) string { return vars[k] } }

	It("is refused when a required variable is missing, naming each", func() {
		_, err := controllers.MetalLBSettingsFromEnv(env(map[string]string{"CONTROLLER_IMAGE": "c"}))
		Expect(err).To(HaveOccurred())
		Expect(err.Error()).To(SatisfyAll(ContainSubstring("OPERATOR_NAMESPACE"), ContainSubstring("SPEAKER_IMAGE"),
			Not(ContainSubstring("CONTROLLER_IMAGE"))))
	})

	It("is refused with an invalid optional variable", func() {
		_, err := controllers.MetalLBSettingsFromEnv(env(map[string]string{"OPERATOR_NAMESPACE": "ns", "CONTROLLER_IMAGE": "c",
			"SPEAKER_IMAGE": "s", "MEMBER_LIST_BIND_PORT": "seventy"}))
		Expect(err).To(MatchError(ContainSubstring("MEMBER_LIST_BIND_PORT")))
	})

	It("gives the settings with defaults when complete", func() {
		s, err := controllers.MetalLBSettingsFromEnv(env(map[string]string{"OPERATOR_NAMESPACE": "ns", "CONTROLLER_IMAGE": "c",
			"SPEAKER_IMAGE": "s"}))
		Expect(err).NotTo(HaveOccurred())
		Expect(s.Namespace).To(Equal("ns"))
		Expect(s.ControllerImage).To(Equal("c"))
		Expect(s.SpeakerImage).To(Equal("s"))
		Expect(s.MemberlistPort).To(BeEquivalentTo(7946))
	})
})
